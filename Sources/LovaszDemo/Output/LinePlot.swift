import Foundation

/// A line chart written as a stand-alone SVG document: axes with ticks and grid, axis labels,
/// a title, a legend, and optional marked points.
public struct LinePlot: Sendable {
    /// One curve.
    public struct Series: Sendable {
        /// The legend entry.
        public var name: String
        /// The stroke colour.
        public var colour: RGB
        /// The points, joined in order.
        public var points: [(x: Double, y: Double)]
        /// Indices into `points` drawn as dots (for example the minimum).
        public var marked: [Int]
        /// Whether the line is dashed.
        public var dashed: Bool

        /// A curve; see the properties.
        public init(name: String, colour: RGB, points: [(x: Double, y: Double)], marked: [Int] = [], dashed: Bool = false) {
            self.name = name
            self.colour = colour
            self.points = points
            self.marked = marked
            self.dashed = dashed
        }
    }

    /// The title above the plot.
    public var title: String
    /// The labels of the axes.
    public var xLabel: String
    public var yLabel: String
    /// The curves, in legend order.
    public var series: [Series]
    /// Fixed y range; by default the range of the data.
    public var yRange: ClosedRange<Double>?
    /// The size of the document in pixels.
    public var width = 720.0
    public var height = 460.0

    /// A plot; see the properties.
    public init(title: String, xLabel: String, yLabel: String, series: [Series], yRange: ClosedRange<Double>? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.yRange = yRange
    }

    /// The SVG document.
    public func svg() -> String {
        let left = 70.0, right = 190.0, top = 40.0, bottom = 55.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }
        let xTicks = Self.niceTicks(low: xs.min() ?? 0, high: xs.max() ?? 1)
        let yTicks = Self.niceTicks(low: yRange?.lowerBound ?? ys.min() ?? 0, high: yRange?.upperBound ?? ys.max() ?? 1)
        let (x0, x1) = (xTicks.first!, xTicks.last!), (y0, y1) = (yTicks.first!, yTicks.last!)
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - (y - y0) / (y1 - y0) * plotHeight }

        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
        viewBox="0 0 \(Int(width)) \(Int(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(left + plotWidth / 2))" y="24" font-size="16" text-anchor="middle">\(Self.escape(title))</text>

        """
        for tick in xTicks {
            svg += "<line x1=\"\(f(px(tick)))\" y1=\"\(f(top))\" x2=\"\(f(px(tick)))\" y2=\"\(f(top + plotHeight))\" stroke=\"#e4e4e4\"/>\n"
            svg += "<text x=\"\(f(px(tick)))\" y=\"\(f(top + plotHeight + 18))\" font-size=\"12\" text-anchor=\"middle\">\(Self.label(tick))</text>\n"
        }
        for tick in yTicks {
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(py(tick)))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(py(tick)))\" stroke=\"#e4e4e4\"/>\n"
            svg += "<text x=\"\(f(left - 8))\" y=\"\(f(py(tick) + 4))\" font-size=\"12\" text-anchor=\"end\">\(Self.label(tick))</text>\n"
        }
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"black\"/>\n"
        svg += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 14))\" font-size=\"14\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        svg += "<text x=\"18\" y=\"\(f(top + plotHeight / 2))\" font-size=\"14\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(f(top + plotHeight / 2)))\">\(Self.escape(yLabel))</text>\n"

        for (index, curve) in series.enumerated() {
            let path = curve.points.map { "\(f(px($0.x))),\(f(py(min(max($0.y, y0), y1))))" }.joined(separator: " ")
            let dash = curve.dashed ? " stroke-dasharray=\"6 4\"" : ""
            svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(curve.colour.hex)\" stroke-width=\"2\"\(dash)/>\n"
            for i in curve.marked where curve.points.indices.contains(i) {
                let p = curve.points[i]
                svg += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(min(max(p.y, y0), y1))))\" r=\"5\" fill=\"\(curve.colour.hex)\" stroke=\"black\"/>\n"
            }
            let ly = top + 12 + Double(index) * 22, lx = left + plotWidth + 14
            svg += "<line x1=\"\(f(lx))\" y1=\"\(f(ly))\" x2=\"\(f(lx + 26))\" y2=\"\(f(ly))\" stroke=\"\(curve.colour.hex)\" stroke-width=\"2\"\(dash)/>\n"
            svg += "<text x=\"\(f(lx + 32))\" y=\"\(f(ly + 4))\" font-size=\"12\">\(Self.escape(curve.name))</text>\n"
        }
        if series.contains(where: { !$0.marked.isEmpty }) {
            let ly = top + 12 + Double(series.count) * 22, lx = left + plotWidth + 14
            svg += "<circle cx=\"\(f(lx + 13))\" cy=\"\(f(ly))\" r=\"5\" fill=\"white\" stroke=\"black\"/>\n"
            svg += "<text x=\"\(f(lx + 32))\" y=\"\(f(ly + 4))\" font-size=\"12\">minimum</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }

    /// Four to eight round ticks (steps of 1, 2 or 5 times a power of ten) covering `low...high`.
    static func niceTicks(low: Double, high: Double) -> [Double] {
        var (low, high) = (low, high)
        if !(high > low) { low -= 0.5; high += 0.5 }
        let rough = (high - low) / 6
        let magnitude = pow(10, floor(log10(rough)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        let first = floor(low / step + 1e-9), last = ceil(high / step - 1e-9)
        return stride(from: first, through: last, by: 1).map { $0 * step }
    }

    static func label(_ value: Double) -> String {
        let rounded = (value * 1e6).rounded() / 1e6
        if rounded == rounded.rounded() && abs(rounded) < 1e6 { return String(Int(rounded)) }
        var text = String(format: "%.4g", rounded)
        if text.hasPrefix("-0") && Double(text) == 0 { text = "0" }
        return text
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
