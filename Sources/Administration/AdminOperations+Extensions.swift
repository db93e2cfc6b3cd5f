package import BillingCore
import Journal
import Foundation
import Metering

/// Which extensions a list shows: each field given narrows it.
package struct ExtensionFilter: Sendable, Hashable {
    /// Part of the number or of the user name.
    package var text: String?
    package var status: ExtensionStatus?
    package var paymentType: PaymentType?
    package var billingEnabled: Bool?

    package init(text: String? = nil, status: ExtensionStatus? = nil, paymentType: PaymentType? = nil,
                 billingEnabled: Bool? = nil) {
        self.text = text
        self.status = status
        self.paymentType = paymentType
        self.billingEnabled = billingEnabled
    }

    func matches(_ account: ExtensionAccount) -> Bool {
        (text.map { account.number.contains($0) || account.userName.localizedCaseInsensitiveContains($0) } ?? true)
            && (status.map { account.status == $0 } ?? true)
            && (paymentType.map { account.paymentType == $0 } ?? true)
            && (billingEnabled.map { account.billingEnabled == $0 } ?? true)
    }
}

extension AdminOperations {
    /// One page of the extensions matching a filter, by number, and how many match in all.
    package func extensions(_ filter: ExtensionFilter, limit: Int, offset: Int) async -> (items: [ExtensionAccount], total: Int) {
        if filter == ExtensionFilter() {
            // No filter: only the page's extensions are asked for their state (100,000 extensions stay fast).
            let numbers = engine.extensionNumbers()
            var items: [ExtensionAccount] = []
            for number in numbers.dropFirst(offset).prefix(limit) {
                if let account = await engine.extensionAccount(number: number) { items.append(account) }
            }
            return (items, numbers.count)
        }
        let matching = await engine.extensionAccounts().filter(filter.matches)
        return (Array(matching.dropFirst(offset).prefix(limit)), matching.count)
    }

    package func account(_ number: String) async throws -> ExtensionAccount {
        guard let account = await engine.extensionAccount(number: number) else {
            throw APIError.notFound("no extension \(number.prefix(32))", field: "number")
        }
        return account
    }

    /// Makes an extension known (billing off when new), or renames it; says whether it was created.
    package func addExtension(number: String, userName: String?) async throws -> (account: ExtensionAccount, created: Bool) {
        if let name = userName, name.utf8.count > 128 {
            throw APIError.invalid("user name must be at most 128 bytes", field: "userName")
        }
        let existed = await engine.extensionAccount(number: number) != nil
        return (try await engine.ensureExtension(number: number, userName: userName), !existed)
    }

    /// Changes one extension's fields; a payment-type change resets its total recharges.
    package func editExtension(number: String, _ patch: ExtensionPatch, by session: AdminSession) async throws
        -> ExtensionAccount
    {
        try patch.change.validate()
        _ = try await account(number)
        let account = try await engine.updateExtension(number: number, patch.change)
        logger.info("extension edited", metadata: .fields([.user: "\(session.user)", .extensionNumber: "\(number)"]))
        return account
    }

    /// The same change to many extensions; each gets its own result.
    package func bulkEdit(numbers: [String], _ changes: ExtensionPatch) async throws -> [ItemResult] {
        guard (1...10_000).contains(numbers.count) else {
            throw APIError.invalid("numbers must list 1 to 10,000 extensions", field: "numbers")
        }
        guard changes.userName == nil else {
            throw APIError.invalid("a bulk edit cannot set user names", field: "changes.userName")
        }
        guard !changes.isEmpty else { throw APIError.invalid("changes is empty", field: "changes") }
        try changes.change.validate()
        var results: [ItemResult] = []
        for number in numbers {
            do {
                _ = try await account(number)
                let account = try await engine.updateExtension(number: number, changes.change)
                results.append(ItemResult(number: number, ok: true, extension: ExtensionView(account)))
            } catch {
                let apiError = APIError(error)
                results.append(ItemResult(number: number, ok: false, error: apiError.message, code: apiError.code))
            }
        }
        return results
    }
}
