package import BillingCore
package import Journal
import Foundation
import Metering

/// An extension as the API shows it.
package struct ExtensionView: Codable, Sendable {
    package var number: String
    package var userName: String
    package var billingEnabled: Bool
    package var paymentType: PaymentType
    package var status: ExtensionStatus
    package var balance: MoneyText
    package var credit: MoneyText
    package var available: MoneyText
    package var totalRecharges: MoneyText

    package init(_ account: ExtensionAccount) {
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
package struct ExtensionPatch: Codable, Sendable {
    package var userName: String?
    package var credit: MoneyText?
    package var status: ExtensionStatus?
    package var paymentType: PaymentType?
    package var billingEnabled: Bool?

    package init(userName: String? = nil, credit: MoneyText? = nil, status: ExtensionStatus? = nil,
                 paymentType: PaymentType? = nil, billingEnabled: Bool? = nil) {
        self.userName = userName
        self.credit = credit
        self.status = status
        self.paymentType = paymentType
        self.billingEnabled = billingEnabled
    }

    package var change: AccountChange {
        AccountChange(userName: userName, credit: credit?.money, status: status, paymentType: paymentType,
                      billingEnabled: billingEnabled)
    }

    package var isEmpty: Bool { userName == nil && credit == nil && status == nil && paymentType == nil && billingEnabled == nil }
}

/// One item's outcome in a bulk request.
package struct ItemResult: Codable, Sendable {
    package var number: String
    package var ok: Bool
    package var error: String?
    package var code: String?
    package var `extension`: ExtensionView?
    package var recharge: RechargeView?
    /// Set on a recharge whose idempotency key an earlier attempt already used: nothing was recharged again.
    package var replayed: Bool?
}

/// A page of results.
package struct Page<Item: Codable & Sendable>: Codable, Sendable {
    package var items: [Item]
    package var total: Int
    package var limit: Int
    package var offset: Int

    package init(items: [Item], total: Int, limit: Int, offset: Int) {
        self.items = items
        self.total = total
        self.limit = limit
        self.offset = offset
    }
}

/// A recharge or adjustment record.
package struct RechargeView: Codable, Sendable {
    package var extensionNumber: String
    package var userName: String
    package var kind: String
    package var amount: MoneyText
    package var balanceBefore: MoneyText
    package var balanceAfter: MoneyText
    package var at: Int64
    package var operatorName: String
    package var note: String
    package var idempotencyKey: String?

    package init(_ record: RechargeRecord) {
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
package struct CallView: Codable, Sendable {
    package var callId: String
    package var extensionNumber: String
    package var userName: String
    package var dialled: String
    package var rateId: Int64?
    package var ratePrefix: String?
    package var authorizedAt: Int64
    package var answeredAt: Int64?
    package var endedAt: Int64
    package var billableSeconds: Int64
    package var billableMillis: Int64
    package var cost: MoneyText
    package var result: CallResult
    package var reason: String
    package var balanceAfter: MoneyText

    package init(_ record: CallRecord) {
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
package struct RateView: Codable, Sendable {
    package var id: Int64?
    package var active: Bool?
    package var remarks: String?
    package var prefix: String
    package var numberLength: Int?
    package var initialCost: MoneyText?
    package var initialTime: Int?
    package var rate: MoneyText
    package var unit: Int
    package var startTime: String?
    package var endTime: String?
    package var extensions: [String]?

    package init(id: Int64? = nil, active: Bool? = nil, remarks: String? = nil, prefix: String, numberLength: Int? = nil,
                 initialCost: MoneyText? = nil, initialTime: Int? = nil, rate: MoneyText, unit: Int,
                 startTime: String? = nil, endTime: String? = nil, extensions: [String]? = nil) {
        self.id = id
        self.active = active
        self.remarks = remarks
        self.prefix = prefix
        self.numberLength = numberLength
        self.initialCost = initialCost
        self.initialTime = initialTime
        self.rate = rate
        self.unit = unit
        self.startTime = startTime
        self.endTime = endTime
        self.extensions = extensions
    }

    /// The domain rate with this id; every rule of `Rate` and `Tariff` is checked. Remarks are kept without
    /// white space at either end, as a CSV import (which trims its fields) would read them back.
    package func rate(id: Int64) throws -> Rate {
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
    package init(_ rate: Rate) {
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
package struct LiveCallView: Codable, Sendable {
    package var callId: String
    package var extensionNumber: String
    package var dialled: String
    package var phase: String
    package var authorizedAt: Int64
    package var answeredAt: Int64?
    package var ratePrefix: String?
    /// What metering has taken so far.
    package var runningCost: MoneyText
    package var grantDeadline: Int64?
    package var projectedCutoff: Int64?

    package init(_ call: CallCharging) {
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
