import BillingCore
import Foundation
import Metering

/// An extension as the API shows it.
struct ExtensionView: Codable, Sendable {
    var number: String
    var userName: String
    var billingEnabled: Bool
    var paymentType: PaymentType
    var status: ExtensionStatus
    var balance: MoneyText
    var credit: MoneyText
    var available: MoneyText
    var totalRecharges: MoneyText

    init(_ account: ExtensionAccount) {
        number = account.number
        userName = account.userName
        billingEnabled = account.billingEnabled
        paymentType = account.paymentType
        status = account.status
        balance = MoneyText(account.balance)
        credit = MoneyText(account.credit)
        available = MoneyText(account.available)
        totalRecharges = MoneyText(account.totalRecharges)
    }
}

/// The fields of an extension a billing manager may change; absent fields stay as they are.
struct ExtensionPatch: Codable, Sendable {
    var userName: String?
    var credit: MoneyText?
    var status: ExtensionStatus?
    var paymentType: PaymentType?
    var billingEnabled: Bool?

    var change: AccountChange {
        AccountChange(userName: userName, credit: credit?.money, status: status, paymentType: paymentType,
                      billingEnabled: billingEnabled)
    }

    var isEmpty: Bool { userName == nil && credit == nil && status == nil && paymentType == nil && billingEnabled == nil }
}

/// One item's outcome in a bulk request.
struct ItemResult: Codable, Sendable {
    var number: String
    var ok: Bool
    var error: String?
    var code: String?
    var `extension`: ExtensionView?
    var recharge: RechargeView?
    /// Set on a recharge whose idempotency key an earlier attempt already used: nothing was recharged again.
    var replayed: Bool?
}

/// A page of results.
struct Page<Item: Codable & Sendable>: Codable, Sendable {
    var items: [Item]
    var total: Int
    var limit: Int
    var offset: Int
}

/// A recharge or adjustment record.
struct RechargeView: Codable, Sendable {
    var extensionNumber: String
    var userName: String
    var kind: String
    var amount: MoneyText
    var balanceBefore: MoneyText
    var balanceAfter: MoneyText
    var at: Int64
    var operatorName: String
    var note: String
    var idempotencyKey: String?

    init(_ record: RechargeRecord) {
        extensionNumber = record.extensionNumber
        userName = record.userName
        kind = record.kind.rawValue
        amount = MoneyText(record.amount)
        balanceBefore = MoneyText(record.balanceBefore)
        balanceAfter = MoneyText(record.balanceAfter)
        at = record.at
        operatorName = record.operatorName
        note = record.note
        idempotencyKey = record.idempotencyKey
    }
}

/// A call log record.
struct CallView: Codable, Sendable {
    var callId: String
    var extensionNumber: String
    var userName: String
    var dialled: String
    var rateId: Int64?
    var ratePrefix: String?
    var authorizedAt: Int64
    var answeredAt: Int64?
    var endedAt: Int64
    var billableSeconds: Int64
    var billableMillis: Int64
    var cost: MoneyText
    var result: CallResult
    var reason: String
    var balanceAfter: MoneyText

    init(_ record: CallRecord) {
        callId = record.callID
        extensionNumber = record.extensionNumber
        userName = record.userName
        dialled = record.dialled
        rateId = record.rate?.rateID
        ratePrefix = record.rate?.prefix
        authorizedAt = record.authorizedAt
        answeredAt = record.answeredAt
        endedAt = record.endedAt
        billableSeconds = (record.billableMillis + 999) / 1000
        billableMillis = record.billableMillis
        cost = MoneyText(record.cost)
        result = record.result
        reason = record.reason
        balanceAfter = MoneyText(record.balanceAfter)
    }
}

/// A rate as the API shows and accepts it. Times of day are "HH:MM" or "HH:MM:SS"; start = end is all day.
struct RateView: Codable, Sendable {
    var id: Int64?
    var active: Bool?
    var remarks: String?
    var prefix: String
    var numberLength: Int?
    var initialCost: MoneyText?
    var initialTime: Int?
    var rate: MoneyText
    var unit: Int
    var startTime: String?
    var endTime: String?
    var extensions: [String]?

    /// The domain rate with this id; every rule of `Rate` and `Tariff` is checked. Remarks are kept without
    /// white space at either end, as a CSV import (which trims its fields) would read them back.
    func rate(id: Int64) throws -> Rate {
        let remarks = (self.remarks ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard remarks.utf8.count <= 256 else {
            throw TollgateError(.invalidArgument, "remarks must be at most 256 bytes", field: "remarks")
        }
        let extensions = extensions ?? []
        guard extensions.count <= 100_000 else {
            throw TollgateError(.invalidArgument, "at most 100,000 extensions per rate", field: "extensions")
        }
        for number in extensions { try ExtensionAccount.validate(number: number) }
        let tariff = try Tariff(initialCost: initialCost?.money ?? .zero, initialTime: initialTime ?? 0,
                                rate: self.rate.money, unit: unit)
        let block = try TimeBlock(start: TimeBlock.secondOfDay(parsing: startTime ?? "00:00"),
                                  end: TimeBlock.secondOfDay(parsing: endTime ?? "00:00"))
        return try Rate(id: id, active: active ?? true, remarks: remarks, prefix: prefix,
                        numberLength: numberLength ?? 0, tariff: tariff, block: block, extensions: Set(extensions))
    }
}

extension RateView {
    init(_ rate: Rate) {
        id = rate.id
        active = rate.active
        remarks = rate.remarks
        prefix = rate.prefix
        numberLength = rate.numberLength
        initialCost = MoneyText(rate.tariff.initialCost)
        initialTime = rate.tariff.initialTime
        self.rate = MoneyText(rate.tariff.rate)
        unit = rate.tariff.unit
        startTime = TimeBlock.format(secondOfDay: rate.block.start)
        endTime = TimeBlock.format(secondOfDay: rate.block.end)
        extensions = rate.extensions.sorted()
    }
}

/// A call in progress.
struct LiveCallView: Codable, Sendable {
    var callId: String
    var extensionNumber: String
    var dialled: String
    var phase: String
    var authorizedAt: Int64
    var answeredAt: Int64?
    var ratePrefix: String?
    /// What metering has taken so far.
    var runningCost: MoneyText
    var grantDeadline: Int64?
    var projectedCutoff: Int64?

    init(_ call: CallCharging) {
        callId = call.callID
        extensionNumber = call.extensionNumber
        dialled = call.dialled
        phase = switch call.phase {
        case .authorized: "authorized"
        case .answered: "answered"
        case .cut: "cut"
        case .settled: "settled"
        }
        authorizedAt = call.authorizedAt
        answeredAt = call.answeredAt
        ratePrefix = call.rate?.prefix
        runningCost = MoneyText(call.charged)
        grantDeadline = call.grantDeadline
        projectedCutoff = call.projectedCutoff
    }
}
