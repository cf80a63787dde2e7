/// A plain-text table: a header row, then rows, columns padded to their widest cell (the first
/// column and those in `leftAligned` left-aligned, the others right-aligned).
struct TextTable {
    var header: [String]
    var rows: [[String]] = []
    var leftAligned: Set<Int>

    init(_ header: [String], leftAligned: Set<Int> = [0]) {
        self.header = header
        self.leftAligned = leftAligned
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render(indent: String = "  ") -> String {
        let all = [header] + rows
        let columns = all.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in all.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return leftAligned.contains(column) ? cell + padding : padding + cell
            }
            var text = indent + padded.joined(separator: "  ")
            while text.last == " " { text.removeLast() }
            return text
        }
        let rule = indent + String(repeating: "-", count: widths.reduce(0, +) + 2 * max(0, columns - 1))
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }
}
