import Administration
import BillingCore
import Foundation
import Hummingbird
import Metering

extension AdminConsole {
    static var extensionsPerPage: Int { 100 }

    struct ExtensionRow {
        var number: String
        var userName: String
        var billing: Bool
        var totalRecharges: String
        var balance: String
        var credit: String
        var available: String
        var paymentType: String
        var locked: Bool
        var selected: Bool
    }

    struct Choice {
        var value: String
        var label: String
        var selected: Bool
    }

    struct ExtensionsContent {
        var number: String
        var statuses: [Choice]
        var paymentTypes: [Choice]
        var billings: [Choice]
        var rows: [ExtensionRow]
        var empty: Bool
        var total: Int
        var first: Int
        var last: Int
        var previous: String?
        var next: String?
    }

    struct RechargeContent {
        var rows: [ExtensionRow]
        var amount: String
        var note: String
        var key: String
        var maximum: String
        var form: FormState
    }

    struct EditContent {
        var row: ExtensionRow
        var credit: String
        var statuses: [Choice]
        var paymentTypes: [Choice]
        var billingOn: Bool
        var form: FormState
    }

    struct BulkContent {
        var rows: [ExtensionRow]
        var statuses: [Choice]
        var paymentTypes: [Choice]
        var form: FormState
        var results: [BulkResult]
        var done: Bool
        var succeeded: Int
        var failed: Int
    }

    struct BulkResult {
        var number: String
        var ok: Bool
        var message: String
    }

    func addExtensionRoutes(_ billing: RouterGroup<AdminRequestContext>) {
        billing.get("/extensions") { request, context in
            let query = request.uri.queryParameters
            let text = query.get("number").flatMap { $0.isEmpty ? nil : String($0.prefix(64)) }
            let status = query.get("status").flatMap(ExtensionStatus.init(rawValue:))
            let payment = query.get("paymentType").flatMap(PaymentType.init(rawValue:))
            let billingOn: Bool? = switch query.get("billing") { case "on": true; case "off": false; default: nil }
            let offset = max(0, query.get("offset").flatMap(Int.init) ?? 0)
            let filter = ExtensionFilter(text: text, status: status, paymentType: payment, billingEnabled: billingOn)
            let page = await operations.extensions(filter, limit: Self.extensionsPerPage, offset: offset)
            let symbol = try await operations.currency().symbol
            var base = "/extensions?"
            for (name, value) in [("number", text), ("status", status?.rawValue), ("paymentType", payment?.rawValue),
                                  ("billing", billingOn.map { $0 ? "on" : "off" })] {
                if let value { base += "\(name)=\(Self.queryEscape(value))&" }
            }
            let content = ExtensionsContent(
                number: text ?? "", statuses: Self.statusChoices(status, any: true),
                paymentTypes: Self.paymentChoices(payment, any: true),
                billings: [Choice(value: "", label: "Any", selected: billingOn == nil),
                           Choice(value: "on", label: "On", selected: billingOn == true),
                           Choice(value: "off", label: "Off", selected: billingOn == false)],
                rows: page.items.map { Self.row($0, symbol) }, empty: page.items.isEmpty, total: page.total,
                first: page.items.isEmpty ? 0 : offset + 1, last: offset + page.items.count,
                previous: offset > 0 ? base + "offset=\(max(0, offset - Self.extensionsPerPage))" : nil,
                next: offset + page.items.count < page.total ? base + "offset=\(offset + Self.extensionsPerPage)" : nil)
            return try await render("extensions", title: "Extensions", request, context, section: "/extensions",
                                    content: content)
        }
        billing.get("/extensions/recharge") { request, context in
            let rows = try await selectedRows(request.uri.queryParameters.getAll("n"))
            return try await rechargePage(request, context, rows: rows, amount: "", note: "", form: FormState())
        }
        billing.post("/extensions/recharge") { request, context in
            var request = request
            let form = try await FormFields.read(&request)
            let numbers = form.all("n")
            let amountText = form.first("amount") ?? ""
            let note = form.first("note") ?? ""
            var state = FormState()
            do {
                guard !numbers.isEmpty else { throw APIError.invalid("select at least one extension", field: "n") }
                let amount: Money
                do {
                    amount = try Money(parsing: amountText)
                } catch {
                    throw APIError.invalid("type an amount such as 10 or 12.50 (at most 6 decimals)", field: "amount")
                }
                let results = try await operations.recharge(
                    numbers: numbers, amount: amount, note: note, idempotencyKey: form.first("key"),
                    by: try context.requireSession())
                let shown = try await money(amount)
                let done = results.filter { $0.ok && $0.replayed != true }.map(\.number)
                let replayed = results.filter { $0.replayed == true }.map(\.number)
                let failed = results.filter { !$0.ok }
                var message = done.isEmpty ? "" : "Recharged \(shown) to \(Self.list(done))."
                if !replayed.isEmpty {
                    message += " This form was already sent: \(Self.list(replayed)) recharged once, not again."
                }
                if !failed.isEmpty {
                    message += " Not recharged: " + failed.map { "\($0.number) (\($0.error ?? "refused"))" }.joined(separator: "; ") + "."
                }
                return redirect("/extensions", message.trimmingCharacters(in: .whitespaces), error: !failed.isEmpty)
            } catch let error as APIError {
                state.record(error, fields: ["numbers": "n"])
            }
            return try await rechargePage(request, context, rows: try await selectedRows(numbers), amount: amountText,
                                          note: note, form: state, status: .badRequest)
        }
        billing.get("/extensions/:number/edit") { request, context in
            let account = try await operations.account(try context.parameters.require("number"))
            return try await editPage(request, context, account: account, credit: ConsoleFormat.decimal(account.credit),
                                      status: account.status, payment: account.paymentType,
                                      billingOn: account.billingEnabled, form: FormState())
        }
        billing.post("/extensions/:number/edit") { request, context in
            let number = try context.parameters.require("number")
            let account = try await operations.account(number)
            var request = request
            let form = try await FormFields.read(&request)
            let creditText = form.first("credit") ?? ""
            let status = form.first("status").flatMap(ExtensionStatus.init(rawValue:)) ?? account.status
            let payment = form.first("paymentType").flatMap(PaymentType.init(rawValue:)) ?? account.paymentType
            let billingOn = form.has("billingEnabled")
            var state = FormState()
            do {
                let credit = try Self.parseMoney(creditText, field: "credit")
                let patch = ExtensionPatch(credit: MoneyText(credit), status: status, paymentType: payment,
                                           billingEnabled: billingOn)
                _ = try await operations.editExtension(number: number, patch, by: try context.requireSession())
                let reset = payment != account.paymentType ? " Total Recharges was reset to 0 (payment type changed)." : ""
                return redirect("/extensions?number=\(Self.queryEscape(number))", "Saved extension \(number).\(reset)")
            } catch let error as APIError {
                state.record(error)
            }
            return try await editPage(request, context, account: account, credit: creditText, status: status,
                                      payment: payment, billingOn: billingOn, form: state, status: .badRequest)
        }
        billing.get("/extensions/bulk") { request, context in
            let rows = try await selectedRows(request.uri.queryParameters.getAll("n"))
            return try await render("bulk", title: "Bulk Edit", request, context, section: "/extensions", content: BulkContent(
                rows: rows, statuses: Self.statusChoices(nil, any: false), paymentTypes: Self.paymentChoices(nil, any: false),
                form: FormState(), results: [], done: false, succeeded: 0, failed: 0))
        }
        billing.post("/extensions/bulk") { request, context in
            var request = request
            let form = try await FormFields.read(&request)
            let numbers = form.all("n")
            var state = FormState()
            do {
                guard !numbers.isEmpty else { throw APIError.invalid("select at least one extension", field: "n") }
                var patch = ExtensionPatch()
                if form.has("setBilling") { patch.billingEnabled = form.first("billing") == "on" }
                if form.has("setCredit") {
                    patch.credit = MoneyText(try Self.parseMoney(form.first("credit") ?? "", field: "credit"))
                }
                if form.has("setStatus") {
                    patch.status = form.first("status").flatMap(ExtensionStatus.init(rawValue:))
                }
                if form.has("setPaymentType") {
                    patch.paymentType = form.first("paymentType").flatMap(PaymentType.init(rawValue:))
                }
                guard !patch.isEmpty else {
                    throw APIError.invalid("tick at least one field to change", field: "changes")
                }
                let results = try await operations.bulkEdit(numbers: numbers, patch).map {
                    BulkResult(number: $0.number, ok: $0.ok, message: $0.ok ? "changed" : ($0.error ?? "refused"))
                }
                let rows = try await selectedRows(numbers)
                return try await render("bulk", title: "Bulk Edit", request, context, section: "/extensions", content: BulkContent(
                    rows: rows, statuses: Self.statusChoices(nil, any: false), paymentTypes: Self.paymentChoices(nil, any: false),
                    form: FormState(), results: results, done: true, succeeded: results.filter(\.ok).count,
                    failed: results.filter { !$0.ok }.count))
            } catch let error as APIError {
                state.record(error, fields: ["numbers": "n"])
            }
            let rows = try await selectedRows(numbers)
            return try await render("bulk", title: "Bulk Edit", request, context, section: "/extensions", content: BulkContent(
                rows: rows, statuses: Self.statusChoices(nil, any: false), paymentTypes: Self.paymentChoices(nil, any: false),
                form: state, results: [], done: false, succeeded: 0, failed: 0), status: .badRequest)
        }
    }

    private func rechargePage(_ request: Request, _ context: AdminRequestContext, rows: [ExtensionRow], amount: String,
                              note: String, form: FormState, status: HTTPResponse.Status = .ok) async throws -> Response {
        try await render("recharge", title: "Recharge", request, context, section: "/extensions", content: RechargeContent(
            rows: rows, amount: amount, note: note, key: SessionStore.randomToken(),
            maximum: try await money(operations.engine.policy.maxRecharge), form: form), status: status)
    }

    private func editPage(_ request: Request, _ context: AdminRequestContext, account: ExtensionAccount, credit: String,
                          status: ExtensionStatus, payment: PaymentType, billingOn: Bool, form: FormState,
                          status code: HTTPResponse.Status = .ok) async throws -> Response {
        try await render("edit", title: "Edit extension \(account.number)", request, context, section: "/extensions",
                         content: EditContent(row: Self.row(account, try await operations.currency().symbol), credit: credit,
                                              statuses: Self.statusChoices(status, any: false),
                                              paymentTypes: Self.paymentChoices(payment, any: false), billingOn: billingOn,
                                              form: form), status: code)
    }

    /// The extensions a list's checkboxes selected (at most 10,000), each as it is now.
    private func selectedRows(_ numbers: [String]) async throws -> [ExtensionRow] {
        let symbol = try await operations.currency().symbol
        var rows: [ExtensionRow] = []
        for number in Set(numbers).sorted().prefix(10_000) {
            if let account = await operations.engine.extensionAccount(number: number) {
                var row = Self.row(account, symbol)
                row.selected = true
                rows.append(row)
            }
        }
        return rows
    }

    static func row(_ account: ExtensionAccount, _ symbol: String) -> ExtensionRow {
        ExtensionRow(number: account.number, userName: account.userName, billing: account.billingEnabled,
                     totalRecharges: ConsoleFormat.money(account.totalRecharges, symbol),
                     balance: ConsoleFormat.money(account.balance, symbol),
                     credit: ConsoleFormat.money(account.credit, symbol),
                     available: ConsoleFormat.money(account.available, symbol),
                     paymentType: account.paymentType == .prepaid ? "Prepaid" : "Postpaid",
                     locked: account.status == .locked, selected: false)
    }

    static func statusChoices(_ current: ExtensionStatus?, any: Bool) -> [Choice] {
        (any ? [Choice(value: "", label: "Any", selected: current == nil)] : [])
            + [Choice(value: "unlocked", label: "Unlocked", selected: current == .unlocked),
               Choice(value: "locked", label: "Locked", selected: current == .locked)]
    }

    static func paymentChoices(_ current: PaymentType?, any: Bool) -> [Choice] {
        (any ? [Choice(value: "", label: "Any", selected: current == nil)] : [])
            + [Choice(value: "prepaid", label: "Prepaid", selected: current == .prepaid),
               Choice(value: "postpaid", label: "Postpaid", selected: current == .postpaid)]
    }

    /// Money typed in a form: exact decimal text, never through a floating-point number.
    static func parseMoney(_ text: String, field: String) throws -> Money {
        do {
            return try Money(parsing: text)
        } catch {
            throw APIError.invalid("type an amount such as 10 or 12.50 (at most 6 decimals)", field: field)
        }
    }

    static func queryEscape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~"))) ?? ""
    }

    static func list(_ numbers: [String]) -> String {
        numbers.count <= 10 ? numbers.joined(separator: ", ") : numbers.prefix(10).joined(separator: ", ") + " and \(numbers.count - 10) more"
    }
}
