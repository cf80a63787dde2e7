import Lovasz
import Testing

/// A reproducible random presence table: `samples × classes`, each class in each sample with
/// probability `density`, then one sample per class forced to hold it (so that every class
/// is present) unless `dropClass` names a class to remove from every sample.
private func presenceTable(seed: UInt64, samples: Int, classes: Int, density: Double, dropClass: Int? = nil) -> [[Bool]] {
    var state = seed &* 0x2545_F491_4F6C_DD1D &+ 7
    func next() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) / Double(1 << 53)
    }
    var table = (0..<samples).map { _ in (0..<classes).map { _ in next() < density } }
    for c in 0..<classes { table[Int(next() * Double(samples))][c] = true }
    if let dropClass { for s in table.indices { table[s][dropClass] = false } }
    return table
}

/// The length of the longest run of consecutive draws that misses class `c`.
private func longestGap(_ draws: [Int], table: [[Bool]], class c: Int) -> Int {
    var longest = 0, current = 0
    for sample in draws {
        if table[sample][c] { current = 0 } else { current += 1; longest = max(longest, current) }
    }
    return longest
}

@Suite("Equibatch sampler")
struct EquibatchTests {
    @Test("every class is seen in every window of |C| consecutive samples",
          arguments: [(1, 3, 1, 0.5), (2, 5, 3, 0.1), (3, 20, 6, 0.05), (4, 40, 8, 0.2), (5, 12, 12, 0.0), (6, 7, 2, 0.9)])
    func windowGuarantee(seed: UInt64, samples: Int, classes: Int, density: Double) throws {
        let table = presenceTable(seed: seed, samples: samples, classes: classes, density: density)
        var sampler = try Equibatch(table: table, seed: seed)
        #expect(sampler.window == classes)
        #expect(sampler.absentClasses.isEmpty)
        let draws = (0..<2_000).map { _ in sampler.nextSample() }
        for c in 0..<classes {
            #expect(longestGap(draws, table: table, class: c) < classes, "class \(c)")
        }
        // Every window of exactly |C| draws, checked directly.
        for start in 0...(draws.count - classes) {
            let seen = Set(draws[start..<start + classes].flatMap { s in (0..<classes).filter { table[s][$0] } })
            #expect(seen.count == classes)
        }
    }

    @Test("a class in no sample is reported and the others keep the guarantee (window K < |C|)")
    func absentClass() throws {
        let table = presenceTable(seed: 11, samples: 15, classes: 5, density: 0.15, dropClass: 3)
        var sampler = try Equibatch(table: table, seed: 3)
        #expect(sampler.absentClasses == [3])
        #expect(sampler.presentClasses == [0, 1, 2, 4])
        #expect(sampler.window == 4)
        let draws = sampler.nextBatch(size: 1_000)
        for c in [0, 1, 2, 4] { #expect(longestGap(draws, table: table, class: c) < 4) }
    }

    @Test("samples with no class are never drawn; every sample holding a rare class is used")
    func coverage() throws {
        let presence = [[0], [], [0, 1], [0], [0, 1], [0]]
        var sampler = try Equibatch(presence: presence, classCount: 2, seed: 5)
        let draws = sampler.nextBatch(size: 60)
        #expect(!draws.contains(1))
        #expect(Set(draws) == [0, 2, 3, 4, 5])
        for window in 0..<(draws.count - 1) {
            #expect([2, 4].contains(draws[window]) || [2, 4].contains(draws[window + 1]))
        }
    }

    @Test("the same seed gives the same sequence; another seed a different one")
    func reproducible() throws {
        let table = presenceTable(seed: 9, samples: 30, classes: 4, density: 0.3)
        var a = try Equibatch(table: table, seed: 42)
        var b = try Equibatch(table: table, seed: 42)
        var c = try Equibatch(table: table, seed: 43)
        let first = a.nextBatch(size: 200)
        #expect(first == b.nextBatch(size: 200))
        #expect(first != c.nextBatch(size: 200))
        #expect(Array(try Equibatch(table: table, seed: 42).prefix(200)) == first)
    }

    @Test("bad input is a typed error")
    func errors() {
        #expect(throws: LovaszError.emptyInput("equibatch needs at least one sample")) {
            try Equibatch(presence: [], classCount: 2)
        }
        #expect(throws: LovaszError.emptyInput("no sample contains any class")) {
            try Equibatch(presence: [[], []], classCount: 2)
        }
        #expect(throws: LovaszError.invalidOption("sample 1 lists class 2, outside 0..<2")) {
            try Equibatch(presence: [[0], [2]], classCount: 2)
        }
        #expect(throws: LovaszError.self) { try Equibatch(presence: [[0]], classCount: 0) }
        #expect(throws: LovaszError.invalidShape("row 1 of the presence table has 1 classes, row 0 has 2")) {
            try Equibatch(table: [[true, false], [true]])
        }
    }
}
