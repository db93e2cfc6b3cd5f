import Administration
import BillingCore
import Foundation
import Hummingbird
import Metering

extension AdminConsole {
    /// Up to this many known extensions are listed as checkboxes in a rate's picker; more are typed.
    static var pickerLimit: Int { 2_000 }

    struct RateRow {
        var id: Int64
        var active: Bool
        var remarks: String
        var prefix: String
        var numberLength: String
        var initialCost: String
        var initialTime: Int
        var rate: String
        var unit: Int
        var startTime: String
        var endTime: String
        var extensionCount: Int
    }

    struct RatesContent {
        var rates: [RateRow]
        var empty: Bool
    }

    struct RateFormContent {
        var action: String
        var isNew: Bool
        var active: Bool
        var remarks: String
        var prefix: String
        var numberLength: String
        var initialCost: String
        var initialTime: String
        var rate: String
        var unit: String
        var startTime: String
        var endTime: String
        var picker: [PickerItem]
        var others: String
        var form: FormState
    }

    struct PickerItem {
        var number: String
        var userName: String
        var text: String
        var checked: Bool
    }

    struct ImportContent {
        var text: String
        var replace: Bool
        var errors: [RateCSV.LineError]
        var form: FormState
        /// Stored: templates read values through reflection, which sees no computed property.
        var hasErrors: Bool

        init(text: String, replace: Bool, errors: [RateCSV.LineError], form: FormState) {
            self.text = text
            self.replace = replace
            self.errors = errors
            self.form = form
            hasErrors = !errors.isEmpty
        }
    }

    struct QuoteContent {
        var extensionNumber: String
        var number: String
        var start: String
        var duration: String
        var result: QuoteResult?
        var form: FormState
    }

    struct QuoteResult {
        var billed: Bool
        var reason: String
        var rate: RateRow?
        var cost: String
    }

    func addRateRoutes(_ billing: RouterGroup<AdminRequestContext>) {
        billing.get("/rates") { request, context in
            let symbol = try await operations.currency().symbol
            let rows = operations.rates().map { Self.rateRow($0, symbol) }
            return try await render("rates", title: "Rate", request, context, section: "/rates",
                                    content: RatesContent(rates: rows, empty: rows.isEmpty))
        }
        billing.get("/rates/new") { request, context in
            try await rateForm(request, context, id: nil, values: Self.values(nil), form: FormState())
        }
        billing.post("/rates/new") { request, context in
            var request = request
            let fields = try await FormFields.read(&request)
            do {
                let rate = try await operations.createRate(try Self.rateView(fields))
                return redirect("/rates", "Added rate \(rate.id) (prefix \(rate.prefix)).")
            } catch {
                var state = FormState()
                state.record(error, fields: ["time": "startTime", "number": "others", "extensions": "others"])
                return try await rateForm(request, context, id: nil, values: Self.typedValues(fields), form: state,
                                          status: .badRequest)
            }
        }
        billing.get("/rates/export") { _, _ in
            Response.download(Array(operations.exportRates().utf8), contentType: "text/csv; charset=utf-8",
                              fileName: "rates.csv")
        }
        billing.get("/rates/import") { request, context in
            try await render("import", title: "Import rates", request, context, section: "/rates",
                             content: ImportContent(text: "", replace: false, errors: [], form: FormState()))
        }
        billing.post("/rates/import") { request, context in
            var request = request
            let fields = try await FormFields.read(&request)
            let pasted = fields.first("text") ?? ""
            let replace = fields.first("mode") == "replace"
            var state = FormState()
            var lineErrors: [RateCSV.LineError] = []
            let bytes = fields.file("file") ?? Array(pasted.utf8)
            if bytes.isEmpty {
                state.errors["file"] = "choose a CSV file or paste its lines"
            } else if replace && fields.first("confirmReplace") != "yes" {
                state.errors["confirmReplace"] = "tick this box to replace the whole rate table"
            } else if let text = String(validating: bytes, as: UTF8.self) {
                switch try await operations.importRates(text, mode: replace ? .replace : .merge) {
                case .success(let count):
                    return redirect("/rates", replace ? "Imported \(count) rate(s); the table is now exactly the file."
                                        : "Imported \(count) rate(s), merged into the table.")
                case .failure(let failure):
                    lineErrors = failure.errors
                    state.message = "\(failure.errors.count) bad line(s); nothing was imported."
                }
            } else {
                state.errors["file"] = "the file is not UTF-8 text"
            }
            return try await render("import", title: "Import rates", request, context, section: "/rates",
                                    content: ImportContent(text: pasted, replace: replace, errors: lineErrors, form: state),
                                    status: .badRequest)
        }
        billing.get("/rates/quote") { request, context in
            let query = request.uri.queryParameters
            let ext = query.get("extension") ?? ""
            let number = query.get("number") ?? ""
            let startText = query.get("start") ?? ConsoleFormat.inputTime(operations.engine.nowMillis(), zone)
            let durationText = query.get("duration") ?? "60"
            var state = FormState()
            var result: QuoteResult?
            if !ext.isEmpty || !number.isEmpty {
                do {
                    guard let start = ConsoleFormat.parseInputTime(startText, zone) else {
                        throw APIError.invalid("type a date and time such as 2026-12-03T09:30", field: "start")
                    }
                    guard let seconds = Int64(durationText) else {
                        throw APIError.invalid("type the duration in whole seconds", field: "duration")
                    }
                    let quote = try operations.quote(extension: ext, number: number, start: start, seconds: seconds)
                    let symbol = try await operations.currency().symbol
                    result = QuoteResult(billed: quote.billed, reason: quote.reason ?? "",
                                         rate: try quote.rate.map { Self.rateRow(try $0.rate(id: $0.id ?? 0), symbol) },
                                         cost: ConsoleFormat.money(quote.cost.money, symbol))
                } catch {
                    state.record(error)
                }
            }
            return try await render("quote", title: "Quote a call", request, context, section: "/rates",
                                    content: QuoteContent(extensionNumber: ext, number: number, start: startText,
                                                          duration: durationText, result: result, form: state),
                                    status: state.message == nil ? .ok : .badRequest)
        }
        billing.get("/rates/:id/edit") { request, context in
            let rate = try operations.rate(id: try Self.rateID(context))
            return try await rateForm(request, context, id: rate.id, values: Self.values(rate), form: FormState())
        }
        billing.post("/rates/:id/edit") { request, context in
            let id = try Self.rateID(context)
            _ = try operations.rate(id: id)
            var request = request
            let fields = try await FormFields.read(&request)
            do {
                _ = try await operations.updateRate(id: id, try Self.rateView(fields))
                return redirect("/rates", "Saved rate \(id). Calls already in progress keep the rate they started with.")
            } catch {
                var state = FormState()
                state.record(error, fields: ["time": "startTime", "number": "others", "extensions": "others"])
                return try await rateForm(request, context, id: id, values: Self.typedValues(fields), form: state,
                                          status: .badRequest)
            }
        }
        billing.post("/rates/:id/activate") { _, context in
            let rate = try await operations.setRate(id: try Self.rateID(context), active: true)
            return redirect("/rates", "Rate \(rate.id) is active.")
        }
        billing.post("/rates/:id/deactivate") { _, context in
            let rate = try await operations.setRate(id: try Self.rateID(context), active: false)
            return redirect("/rates", "Rate \(rate.id) is inactive: new calls no longer use it.")
        }
        billing.get("/rates/:id/delete") { request, context in
            let rate = try operations.rate(id: try Self.rateID(context))
            return try await render("confirm", title: "Delete rate \(rate.id)?", request, context, section: "/rates",
                                    content: ConfirmContent(
                                        message: "Rate \(rate.id) (prefix \(rate.prefix), \(rate.extensions.count) extension(s)) will be deleted. Calls in progress keep it; the call log keeps what they cost.",
                                        action: "/rates/\(rate.id)/delete", button: "Delete rate \(rate.id)",
                                        back: "/rates", fields: []))
        }
        billing.post("/rates/:id/delete") { _, context in
            let id = try Self.rateID(context)
            try await operations.deleteRate(id: id)
            return redirect("/rates", "Deleted rate \(id).")
        }
    }

    /// The fields of a rate form, as text.
    struct RateValues {
        var active = true
        var remarks = ""
        var prefix = ""
        var numberLength = "0"
        var initialCost = "0.00"
        var initialTime = "0"
        var rate = ""
        var unit = "60"
        var startTime = "00:00"
        var endTime = "00:00"
        var extensions: Set<String> = []
    }

    static func values(_ rate: Rate?) -> RateValues {
        guard let rate else { return RateValues() }
        return RateValues(active: rate.active, remarks: rate.remarks, prefix: rate.prefix,
                          numberLength: String(rate.numberLength), initialCost: ConsoleFormat.decimal(rate.tariff.initialCost),
                          initialTime: String(rate.tariff.initialTime), rate: ConsoleFormat.decimal(rate.tariff.rate),
                          unit: String(rate.tariff.unit),
                          startTime: String(TimeBlock.format(secondOfDay: rate.block.start).prefix(5)),
                          endTime: String(TimeBlock.format(secondOfDay: rate.block.end).prefix(5)), extensions: rate.extensions)
    }

    /// What the operator typed, to show again next to the errors.
    static func typedValues(_ fields: FormFields) -> RateValues {
        RateValues(active: fields.has("active"), remarks: fields.first("remarks") ?? "", prefix: fields.first("prefix") ?? "",
                   numberLength: fields.first("numberLength") ?? "", initialCost: fields.first("initialCost") ?? "",
                   initialTime: fields.first("initialTime") ?? "", rate: fields.first("rate") ?? "",
                   unit: fields.first("unit") ?? "", startTime: fields.first("startTime") ?? "",
                   endTime: fields.first("endTime") ?? "", extensions: Set(extensionNumbers(fields)))
    }

    private func rateForm(_ request: Request, _ context: AdminRequestContext, id: Int64?, values: RateValues,
                          form: FormState, status: HTTPResponse.Status = .ok) async throws -> Response {
        var listed: [ExtensionAccount] = []
        for number in operations.engine.extensionNumbers().prefix(Self.pickerLimit) {
            if let account = await operations.engine.extensionAccount(number: number) { listed.append(account) }
        }
        let listedNumbers = Set(listed.map(\.number))
        let picker = listed.map {
            PickerItem(number: $0.number, userName: $0.userName, text: ($0.number + " " + $0.userName).lowercased(),
                       checked: values.extensions.contains($0.number))
        }
        let content = RateFormContent(
            action: id.map { "/rates/\($0)/edit" } ?? "/rates/new", isNew: id == nil, active: values.active,
            remarks: values.remarks, prefix: values.prefix, numberLength: values.numberLength,
            initialCost: values.initialCost, initialTime: values.initialTime, rate: values.rate, unit: values.unit,
            startTime: values.startTime, endTime: values.endTime, picker: picker,
            others: values.extensions.subtracting(listedNumbers).sorted().joined(separator: "\n"), form: form)
        return try await render("rate", title: id.map { "Edit rate \($0)" } ?? "Add a rate", request, context,
                                section: "/rates", content: content, status: status)
    }

    /// The rate a form describes; a field that is not a number is refused with its name.
    static func rateView(_ fields: FormFields) throws -> RateView {
        func integer(_ name: String, _ fallback: Int?) throws -> Int {
            guard let text = fields.first(name) else {
                if let fallback { return fallback }
                throw APIError.invalid("required", field: name)
            }
            guard let value = Int(text) else { throw APIError.invalid("type a whole number", field: name) }
            return value
        }
        return RateView(
            active: fields.has("active"), remarks: fields.first("remarks"), prefix: fields.first("prefix") ?? "",
            numberLength: try integer("numberLength", 0),
            initialCost: MoneyText(try parseMoney(fields.first("initialCost") ?? "0", field: "initialCost")),
            initialTime: try integer("initialTime", 0),
            rate: MoneyText(try parseMoney(fields.first("rate") ?? "", field: "rate")), unit: try integer("unit", nil),
            startTime: fields.first("startTime"), endTime: fields.first("endTime"),
            extensions: Array(Set(extensionNumbers(fields))).sorted())
    }

    /// The extensions ticked in the picker and those typed (one per line, or separated by commas or spaces).
    static func extensionNumbers(_ fields: FormFields) -> [String] {
        fields.all("extensions") + (fields.first("others") ?? "")
            .split(whereSeparator: { $0.isNewline || $0 == "," || $0 == " " }).map(String.init)
    }

    static func rateRow(_ rate: Rate, _ symbol: String) -> RateRow {
        RateRow(id: rate.id, active: rate.active, remarks: rate.remarks, prefix: rate.prefix,
                numberLength: rate.numberLength == 0 ? "any" : String(rate.numberLength),
                initialCost: ConsoleFormat.money(rate.tariff.initialCost, symbol), initialTime: rate.tariff.initialTime,
                rate: ConsoleFormat.money(rate.tariff.rate, symbol), unit: rate.tariff.unit,
                startTime: TimeBlock.format(secondOfDay: rate.block.start), endTime: TimeBlock.format(secondOfDay: rate.block.end),
                extensionCount: rate.extensions.count)
    }

    static func rateID(_ context: AdminRequestContext) throws -> Int64 {
        let text = try context.parameters.require("id")
        guard let id = Int64(text) else { throw APIError.notFound("no rate \(text.prefix(20))", field: "id") }
        return id
    }
}
