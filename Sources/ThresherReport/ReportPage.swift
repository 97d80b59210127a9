/// The whole report as one self-contained HTML document: inline CSS, inline SVG, no script, no
/// external URL of any kind, so it opens the same with no network and with JavaScript off.
///
/// Guarantees: a pure function of the `SweepReport`; every user text is escaped; empty and
/// degenerate sweeps (no trials, no values, one value, all equal, NaN/inf) render with a sentence
/// in place of a chart that would be empty; no NaN or infinity reaches an SVG coordinate.
public struct ReportPage: Sendable {
    public let report: SweepReport
    public let downsampler: CurveDownsampler

    public init(report: SweepReport, downsampler: CurveDownsampler = CurveDownsampler()) {
        self.report = report; self.downsampler = downsampler
    }

    public func html() -> String {
        let hasValues = report.trials.contains { $0.final != nil }
        var body = ReportHeader(report: report).html()

        let curves = LearningCurveChart(report: report, downsampler: downsampler)
        body += section("Learning curves", """
            Each line is one trial's \(metricName) against its step (hover for the trial). \
            <span class="key ran">─ ran</span> <span class="key stopped">┄ ✕ stopped early: cut where the policy stopped it</span> \
            <span class="key failed">┈ failed</span> <span class="key best">━ best trial</span>
            """ + (curves.isDownsampled ? " Curves longer than \(downsampler.limit) points are thinned to \(downsampler.limit), keeping each bucket's minimum and maximum." : ""),
            hasValues ? curves.svg() : empty)

        body += section("Best so far against compute", """
            The best \(metricName) found so far (\(report.goal.rawValue)) against the compute spent: the training steps \
            reported by all trials together (each value adds how far its trial's step advanced), counted in the order \
            the coordinator stored the values. Dots mark improvements.
            """, hasValues ? BestSoFarChart(report: report).svg() : empty)

        let parallel = ParallelCoordinatesChart(report: report)
        let (_, constants) = parallel.parameters()
        var note = "One axis per parameter that varies (numeric axes linear, or log for log-scaled distributions and positive values spanning two decades or more; categories evenly spaced), the final \(metricName) last. Lines are coloured by the final value: darker is better."
        if !constants.isEmpty {
            note += " Constant: " + HTMLText.escape(constants.map { "\($0.0)=\($0.1)" }.joined(separator: ", ")) + "."
        }
        let undrawn = report.trials.count - parallel.drawn.count
        if undrawn > 0 { note += " \(undrawn) trial(s) without a finite value are not drawn." }
        body += section("Parameters against the final metric", note, parallel.drawn.isEmpty ? empty : parallel.svg())

        body += section("Top trials", "Ranked by each trial's best \(metricName); the checkpoints listed are those stored now, which <code>thresher fetch</code> would write.",
                        TopTrialsTable(report: report).html())
        body += section("Brackets and rungs", "Where the stopping policy judged trials: how many reached each rung, how many it stopped there, and the thresholds they failed to reach.",
                        RungTable(report: report).html())
        body += section("Storage over time", "Bytes of checkpoints held in the blob store (from the store's log of checkpoints stored and evicted) against the retention budget.",
                        StorageChart(report: report).html())
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTMLText.escape(report.name)) — Thresher report</title>
            <style>\(Self.css)</style></head>
            <body>\(body)<footer>Made by <code>thresher report</code>. Self-contained: no script, no network.</footer></body></html>
            """
    }

    private var metricName: String { report.metric.isEmpty ? "metric" : HTMLText.escape(report.metric) }

    private var empty: String { "<p class=\"empty\">No trial has reported a finite value of the metric yet.</p>" }

    private func section(_ title: String, _ note: String, _ content: String) -> String {
        "<section><h2>\(title)</h2><p class=\"note\">\(note)</p>\(content)</section>"
    }

    static let css = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1000px;color:#1d232a;background:#fff}
        h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:28px 0 4px;border-bottom:1px solid #dde2e8;padding-bottom:3px}
        .dim{color:#6b7580;font-weight:normal}.note{color:#4a535c;margin:4px 0 8px}.empty{color:#6b7580;font-style:italic}
        dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0}dt{color:#6b7580}dd{margin:0}
        svg.chart{width:100%;height:auto;display:block;background:#fbfcfd;border:1px solid #e6eaee}
        .grid{stroke:#e6eaee;stroke-width:1}.axis{stroke:#5b6570;stroke-width:1}
        .tick{font-size:11px;fill:#4a535c}.axis-title{font-size:12px;fill:#1d232a}
        .halo{paint-order:stroke;stroke:#fbfcfd;stroke-width:3px;stroke-linejoin:round}
        .curve{fill:none;stroke-width:1.3;stroke-linejoin:round}
        .ran .curve{stroke:#3b6ea5;opacity:.6}.stopped .curve{stroke:#9aa3ad;stroke-dasharray:4 3;opacity:.8}
        .failed .curve{stroke:#c62828;stroke-dasharray:1.5 2.5;stroke-width:1.6}.best .curve{stroke:#e67e00;stroke-width:3}
        .cut{stroke:#5b6570;stroke-width:1.6;fill:none}
        .best-so-far{fill:none;stroke:#e67e00;stroke-width:2}.improvement{fill:#e67e00}
        .pc-line{fill:none;stroke-width:1.4;opacity:.8}
        .storage{fill:none;stroke:#3b6ea5;stroke-width:2}.budget{stroke:#c62828;stroke-width:1.5;stroke-dasharray:6 4}.budget-label{font-size:11px;fill:#c62828}
        .key{white-space:nowrap;margin-right:10px}.key.ran{color:#3b6ea5}.key.stopped{color:#7b848e}.key.failed{color:#c62828}.key.best{color:#e67e00;font-weight:600}
        table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #e6eaee;padding:4px 6px;text-align:left;vertical-align:top}
        th{background:#f3f5f7}td.params{font-family:ui-monospace,monospace;font-size:12px;word-break:break-word}
        code{font-family:ui-monospace,monospace;font-size:12px}.state-failed{color:#c62828}.state-stopped{color:#7b848e}
        footer{margin-top:32px;color:#6b7580;font-size:12px}
        """
}
