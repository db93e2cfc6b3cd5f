import BillingCore
import GRDB
import Journal

/// Row ⇄ domain conversions. Stored enums that no longer parse are reported, never guessed.
enum LedgerRows {
    static func account(_ row: Row) throws -> ExtensionAccount {
        let payment: String = row["payment_type"]
        let status: String = row["status"]
        guard let paymentType = PaymentType(rawValue: payment), let extensionStatus = ExtensionStatus(rawValue: status)
        else { throw LedgerError.corrupt("extension \(row["number"] as String): payment type or status") }
        return ExtensionAccount(
            number: row["number"], userName: row["user_name"], billingEnabled: row["billing_enabled"],
            paymentType: paymentType, status: extensionStatus, balance: Money(micros: row["balance"]),
            credit: Money(micros: row["credit"]), totalRecharges: Money(micros: row["total_recharges"]))
    }

    static func snapshot(_ row: Row, prefixColumn: String) throws -> RateSnapshot? {
        guard let id: Int64 = row["rate_id"] else { return nil }
        do {
            let tariff = try Tariff(
                initialCost: Money(micros: row["initial_cost"]), initialTime: row["initial_time"],
                rate: Money(micros: row["rate"]), unit: row["unit"])
            return RateSnapshot(rateID: id, prefix: row[prefixColumn], tariff: tariff)
        } catch {
            throw LedgerError.corrupt("rate snapshot of \(id): \(error)")
        }
    }

    static func liveCall(_ row: Row) throws -> LiveCallCheckpoint {
        let call = CallCharging(
            restoring: row["call_id"], extensionNumber: row["extension_number"], dialled: row["dialled"],
            rate: try snapshot(row, prefixColumn: "rate_prefix"),
            unbilledReason: (row["unbilled_reason"] as String?).flatMap(UnbilledReason.init(rawValue:)),
            authorizedAt: row["authorized_at"], answeredAt: row["answered_at"], chargesMade: row["charges_made"],
            charged: Money(micros: row["charged"]), cutAt: row["cut_at"], billingStoppedAt: row["billing_stopped_at"],
            suspendedAt: row["suspended_at"])
        return LiveCallCheckpoint(call)
    }

    static func rate(_ row: Row, extensions: Set<String>) throws -> Rate {
        do {
            let tariff = try Tariff(
                initialCost: Money(micros: row["initial_cost"]), initialTime: row["initial_time"],
                rate: Money(micros: row["rate"]), unit: row["unit"])
            return try Rate(
                id: row["id"], active: row["active"], remarks: row["remarks"], prefix: row["prefix"],
                numberLength: row["number_length"], tariff: tariff,
                block: TimeBlock(start: row["start_second"], end: row["end_second"]), extensions: extensions)
        } catch {
            throw LedgerError.corrupt("rate \(row["id"] as Int64): \(error)")
        }
    }

    static func recharge(_ row: Row) -> RechargeRecord {
        RechargeRecord(
            extensionNumber: row["extension_number"], userName: row["user_name"],
            kind: PostingKind(rawValue: row["kind"]) ?? .adjustment, amount: Money(micros: row["amount"]),
            balanceBefore: Money(micros: row["balance_before"]), balanceAfter: Money(micros: row["balance_after"]),
            at: row["at"], operatorName: row["operator"], note: row["note"], idempotencyKey: row["idempotency_key"])
    }

    static func call(_ row: Row) throws -> CallRecord {
        guard let result = CallResult(rawValue: row["result"]) else {
            throw LedgerError.corrupt("call \(row["call_id"] as String): result")
        }
        return CallRecord(
            callID: row["call_id"], extensionNumber: row["extension_number"], userName: row["user_name"],
            dialled: row["dialled"], rate: try snapshot(row, prefixColumn: "rate_prefix"),
            authorizedAt: row["authorized_at"], answeredAt: row["answered_at"], endedAt: row["ended_at"],
            billableMillis: row["billable_ms"], cost: Money(micros: row["cost"]),
            charged: Money(micros: row["charged"]), result: result, reason: row["reason"],
            balanceAfter: Money(micros: row["balance_after"]))
    }
}
