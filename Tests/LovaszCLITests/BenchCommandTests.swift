import Foundation
import LovaszTestSupport
import Testing

/// `lovasz bench`, run as a subprocess on tiny workloads and hand-made files.
@Suite struct BenchCommandTests {
    static let noOpenCL: [String: String?] = ["LOVASZ_OPENCL_LIBRARY": "/nonexistent/libOpenCL.so.1"]

    static func bench(_ arguments: [String], environment: [String: String?] = [:]) throws -> CommandRunner.Outcome {
        let outcome = try CommandRunner().run(["bench"] + arguments, environment: environment)
        #expect(!outcome.killedBySignal, "lovasz bench \(arguments) crashed: \(outcome.standardError)")
        return outcome
    }

    static func json(_ outcome: CommandRunner.Outcome) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8))
        return try #require(object as? [String: Any], "not a JSON object: \(outcome.standardOutput)")
    }

    static func results(_ report: [String: Any]) throws -> [[String: Any]] {
        try #require(report["results"] as? [[String: Any]])
    }

    /// What `machine.processorModel` should say here, read from `/proc/cpuinfo` line by line:
    /// the first `model name`, its spaces folded, then `, family F model M` when both are given.
    static func expectedProcessorModel() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        let firstProcessor = text.components(separatedBy: "\n\n").first ?? ""
        func value(_ key: String) -> String? {
            for line in firstProcessor.components(separatedBy: "\n") {
                let pair = line.components(separatedBy: ":")
                if pair.count >= 2, pair[0].trimmingCharacters(in: .whitespaces) == key {
                    let words = pair.dropFirst().joined(separator: ":").components(separatedBy: .whitespaces)
                    return words.filter { !$0.isEmpty }.joined(separator: " ")
                }
            }
            return nil
        }
        guard let name = value("model name"), !name.isEmpty else { return nil }
        if let family = value("cpu family"), let model = value("model"), !family.isEmpty, !model.isEmpty {
            return "\(name), family \(family) model \(model)"
        }
        return name
    }

    @Test func tinyWorkloadsReportEveryField() throws {
        let outcome = try Self.bench([
            "--size", "tiny", "--backend", "cpu", "--workload", "voc", "hinge", "--data", "both",
            "--repeat", "3", "--warmup", "1", "--json",
        ])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let report = try Self.json(outcome)
        let machine = try #require(report["machine"] as? [String: Any])
        #expect((machine["processors"] as? Int ?? 0) >= 1)
        #expect(machine["processorModel"] as? String == Self.expectedProcessorModel())
        let settings = try #require(report["settings"] as? [String: Any])
        #expect(settings["repeat"] as? Int == 3 && settings["warmup"] as? Int == 1 && settings["size"] as? String == "tiny")
        let results = try Self.results(report)
        #expect(results.map { "\($0["workload"]!)/\($0["data"]!)" } == ["voc/random", "voc/trained", "hinge/random", "hinge/trained"])
        for row in results {
            #expect(row["backend"] as? String == "cpu")
            #expect((row["device"] as? String)?.hasPrefix("CPU") == true)
            let median = try #require(row["medianMilliseconds"] as? Double)
            let minimum = try #require(row["minMilliseconds"] as? Double)
            let samples = try #require(row["samplesMilliseconds"] as? [Double])
            #expect(samples.count == 3)
            #expect(minimum > 0 && minimum <= median && median <= samples.max()!)
            #expect(minimum == samples.min()!)
            #expect(samples.sorted()[1] == median)
            let elements = try #require(row["segmentElements"] as? Int)
            let rate = try #require(row["segmentElementsPerSecond"] as? Double)
            #expect(abs(rate - Double(elements) / (median / 1000)) <= 1e-6 * rate)
            let loss = try #require(row["loss"] as? Double)
            #expect(loss.isFinite && loss >= 0)
            #expect(row["peakRSSMiB"] as? Double ?? 0 > 0)
            #expect(row["scoresMiB"] as? Double ?? 0 > 0)
            #expect(row["memoryBudgetMiB"] as? Double == 3 * 2 * (row["scoresMiB"] as? Double ?? 0))
            #expect(row["withinMemoryBudget"] is Bool)
        }
        // voc tiny: one group of 2 × 11 × 11 pixels; every present class sorts all of them.
        let voc = results[0]
        #expect(voc["shape"] as? [Int] == [2, 21, 11, 11])
        #expect(voc["segmentElements"] as? Int == (voc["classesCounted"] as? Int ?? -1) * 242)
        #expect(voc["segments"] as? Int == voc["classesCounted"] as? Int)
        // hinge tiny, per image: one segment of 121 pixels per image.
        #expect(results[2]["shape"] as? [Int] == [2, 11, 11])
        #expect(results[2]["segmentElements"] as? Int == 242)
        #expect(results[2]["segments"] as? Int == 2)
    }

    @Test func defaultRunPrintsATableOfEveryWorkload() throws {
        let outcome = try Self.bench(["--size", "tiny", "--repeat", "1", "--warmup", "0"], environment: Self.noOpenCL)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let lines = outcome.standardOutput.split(separator: "\n").map(String.init)
        let header = try #require(lines.first { $0.hasPrefix("workload") })
        for column in ["data", "backend", "device", "median ms", "min ms", "seg-elem/s", "peak MiB"] {
            #expect(header.contains(column))
        }
        for name in ["voc", "voc-per-image", "cityscapes", "cityscapes-per-image", "ade20k", "ade20k-per-image", "hinge", "hinge-per-batch"] {
            #expect(lines.filter { $0.hasPrefix(name + " ") }.count == 2, "\(name): random and trained")
        }
        #expect(lines.contains { $0.hasPrefix("opencl: skipped") })
        #expect(outcome.standardError.contains("[16/16]"), "progress on stderr")
    }

    @Test func openCLAloneUnavailableExitsWithStatus3() throws {
        let outcome = try Self.bench(["--backend", "opencl", "--size", "tiny", "--workload", "voc"], environment: Self.noOpenCL)
        #expect(outcome.status == 3)
        #expect(outcome.standardError.contains("OpenCL"))
        #expect(outcome.standardOutput.isEmpty)
    }

    @Test func unavailableOpenCLIsSkippedAmongOthers() throws {
        let outcome = try Self.bench(
            ["--backend", "all", "--size", "tiny", "--workload", "hinge", "--data", "random", "--json"],
            environment: Self.noOpenCL)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let report = try Self.json(outcome)
        let skipped = try #require(report["skipped"] as? [[String: Any]])
        #expect(skipped.map { $0["backend"] as? String } == ["opencl"])
        #expect(try Self.results(report).map { $0["backend"] as? String } == ["cpu"])
    }

    @Test(.enabled(if: hostHasOpenCLDevice, "no OpenCL device on this host"))
    func openCLMeasuresTheSameLossesWithDeviceResidentTimes() throws {
        let common = ["--size", "tiny", "--workload", "voc-per-image", "hinge", "--data", "trained", "--repeat", "2", "--json"]
        let openCL = try Self.bench(common + ["--backend", "opencl"])
        let cpu = try Self.bench(common + ["--backend", "cpu"])
        #expect(openCL.status == 0 && cpu.status == 0, "\(openCL.standardError)")
        let openCLRows = try Self.results(Self.json(openCL)), cpuRows = try Self.results(Self.json(cpu))
        #expect(openCLRows.count == 2 && cpuRows.count == 2)
        for (gpu, host) in zip(openCLRows, cpuRows) {
            #expect(gpu["backend"] as? String == "opencl")
            #expect(gpu["segmentElements"] as? Int == host["segmentElements"] as? Int)
            let a = try #require(gpu["loss"] as? Double), b = try #require(host["loss"] as? Double)
            #expect(abs(a - b) <= 1e-5 * abs(b), "\(gpu["workload"] ?? "") \(a) vs \(b)")
            #expect((gpu["zeroCopyMedianMilliseconds"] as? Double ?? 0) > 0)
            #expect(host["zeroCopyMedianMilliseconds"] == nil)
        }
    }

    @Test(.enabled(if: hostHasOpenCLDevice, "no OpenCL device on this host"))
    func phasesReportTheDeviceTimeOfEveryPhaseOnOpenCLOnly() throws {
        let common = ["--size", "tiny", "--workload", "voc", "--data", "random", "--repeat", "1", "--warmup", "0", "--phases"]
        let openCL = try Self.bench(common + ["--backend", "opencl", "--json"])
        #expect(openCL.status == 0, "\(openCL.standardError)")
        let row = try #require(Self.results(Self.json(openCL)).first)
        let phases = try #require(row["phases"] as? [[String: Any]])
        #expect(phases.map { $0["phase"] as? String } == [
            "upload", "plan", "keys", "sort", "scan+gradient", "backpropagation", "download",
        ])
        #expect(phases.allSatisfy { ($0["commands"] as? Int ?? 0) >= 1 && ($0["milliseconds"] as? Double ?? -1) >= 0 })
        #expect((row["phaseSpanMilliseconds"] as? Double ?? 0) > 0)
        // The zero-copy call moves no scores or gradient between host and device.
        let zeroCopy = try #require(row["zeroCopyPhases"] as? [[String: Any]])
        #expect(zeroCopy.map { $0["phase"] as? String } == ["plan", "keys", "sort", "scan+gradient", "backpropagation"])
        #expect((row["zeroCopyPhaseSpanMilliseconds"] as? Double ?? 0) > 0)
        let table = try Self.bench(common + ["--backend", "opencl"])
        #expect(table.standardOutput.contains("voc random opencl phases (device ms): upload "))
        #expect(table.standardOutput.contains("voc random opencl zero-copy phases (device ms): plan "))
        let cpu = try Self.bench(common + ["--backend", "cpu", "--json"])
        #expect(try Self.results(Self.json(cpu)).first?["phases"] == nil)
        #expect(try Self.results(Self.json(cpu)).first?["zeroCopyPhases"] == nil)
    }

    @Test func memoryModeReportsTheBudgetAndFailsWhenExceeded() throws {
        // A tiny batch is far smaller than the process itself, so it exceeds 3x (scores + gradient).
        let outcome = try Self.bench(["--memory", "--size", "tiny", "--backend", "cpu", "--repeat", "1", "--data", "random"])
        #expect(outcome.status == 1)
        #expect(outcome.standardOutput.contains("OVER 3x"))
        #expect(outcome.standardOutput.split(separator: "\n").filter { $0.hasPrefix("voc ") }.count == 1)
        // The table's first line names the machine.
        let model = Self.expectedProcessorModel().map { " (\($0))" } ?? ""
        #expect(outcome.standardOutput.hasPrefix("\(ProcessInfo.processInfo.activeProcessorCount) processors\(model), load average "))
        #expect(outcome.standardError.contains("exceeds the budget"))
    }

    /// The median of `values` (the mean of the middle two for an even count), computed here.
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    @Test(arguments: [(1, 2), (3, 1)])
    func alternatingThreadCountsReportTurnRatios(first: Int, second: Int) throws {
        // 23 calls each: turns of 10, 10 and 3.
        let outcome = try Self.bench([
            "--size", "tiny", "--workload", "hinge-per-batch", "voc", "--data", "trained",
            "--alternate-threads", "\(first),\(second)", "--repeat", "23", "--warmup", "1", "--json",
        ])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let records = try Self.results(Self.json(outcome))
        #expect(records.map { $0["workload"] as? String } == ["hinge-per-batch", "hinge-per-batch", "voc", "voc"])
        for (a, b) in [(records[0], records[1]), (records[2], records[3])] {
            #expect(a["backend"] as? String == "cpu" && b["backend"] as? String == "cpu")
            #expect(a["device"] as? String == "CPU (\(first) thread\(first == 1 ? "" : "s"))")
            #expect(b["device"] as? String == "CPU (\(second) thread\(second == 1 ? "" : "s"))")
            // The loss does not depend on the thread count.
            #expect(a["loss"] as? Double == b["loss"] as? Double)
            let samplesA = try #require(a["samplesMilliseconds"] as? [Double])
            let samplesB = try #require(b["samplesMilliseconds"] as? [Double])
            #expect(samplesA.count == 23 && samplesB.count == 23)
            #expect(a["medianMilliseconds"] as? Double == Self.median(samplesA))
            let summary = try #require(a["alternation"] as? [String: Any])
            let summaryB = try #require(b["alternation"] as? [String: Any])
            #expect(summary["threads"] as? [Int] == [first, second] && summaryB["threads"] as? [Int] == [first, second])
            #expect(summary["callsPerTurn"] as? Int == 10)
            #expect(summary["turns"] as? Int == 3)
            // Turn i of each row: samples 10i ..< 10i + 10; the ratio of their medians, then the median.
            let turns = stride(from: 0, to: 23, by: 10).map { start in
                let end = min(start + 10, 23)
                return Self.median(Array(samplesA[start..<end])) / Self.median(Array(samplesB[start..<end]))
            }
            let ratio = try #require(summary["medianTurnRatio"] as? Double)
            #expect(abs(ratio - Self.median(turns)) <= 1e-12 * ratio)
            #expect(summaryB["medianTurnRatio"] as? Double == ratio)
        }
        #expect(outcome.standardError.contains("alternating"), "progress on stderr")
        let table = try Self.bench([
            "--size", "tiny", "--workload", "hinge", "--data", "random", "--alternate-threads", "1,2", "--repeat", "2",
        ])
        #expect(table.status == 0, "\(table.standardError)")
        #expect(table.standardOutput.contains("hinge random: 2 threads "))
        #expect(table.standardOutput.contains("x as fast as 1 (median of 1 pair of neighbouring turns of 10 calls in this process)"))
        let rows = table.standardOutput.split(separator: "\n").filter { $0.hasPrefix("hinge ") && !$0.contains("as fast") }
        #expect(rows.count == 2)
    }

    @Test func listNamesTheWorkloads() throws {
        let outcome = try Self.bench(["--list"])
        #expect(outcome.status == 0)
        #expect(outcome.standardOutput.split(separator: "\n").count == 8)
        #expect(outcome.standardOutput.contains("voc: Pascal VOC batch"))
    }

    // MARK: .npy inputs

    /// Two images of 2 × 2 pixels, three classes, label 255 ignored: image 0 = [0, 0, 1, 255],
    /// image 1 = [2, 2, 2, 2] (see ``BenchWorkloadTests/handLabels``).
    static func writeHandCase() throws -> (directory: URL, scores: String, labels: String) {
        let directory = try NumPyFixtures.temporaryDirectory()
        let scores = (0..<24).map { Float($0 % 7) * 0.25 - 0.5 }
        let labels: [UInt8] = [0, 0, 1, 255, 2, 2, 2, 2]
        return (
            directory,
            try NumPyFixtures.write(NumPyFixtures.float32(scores, shape: [2, 3, 2, 2]), named: "s.npy", in: directory),
            try NumPyFixtures.write(NumPyFixtures.integers(labels, shape: [2, 2, 2]), named: "y.npy", in: directory)
        )
    }

    @Test(arguments: [
        ([String](), 3 * 7),
        (["--per-image"], 2 * 3 + 1 * 4),
        (["--per-image", "--classes", "all"], 3 * 3 + 3 * 4),
        (["--classes", "0,1"], 2 * 7),
    ])
    func segmentElementsOfHandMadeFiles(options: [String], expected: Int) throws {
        let files = try Self.writeHandCase()
        defer { try? FileManager.default.removeItem(at: files.directory) }
        let outcome = try Self.bench(
            ["--scores", files.scores, "--labels", files.labels, "--ignore-index", "255", "--backend", "cpu",
             "--repeat", "1", "--json"] + options)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let row = try #require(try Self.results(Self.json(outcome)).first)
        #expect(row["segmentElements"] as? Int == expected)
        #expect(row["workload"] as? String == "s.npy" && row["data"] as? String == "file")
        #expect(row["shape"] as? [Int] == [2, 3, 2, 2])
    }

    @Test func badFilesExitWithStatus2() throws {
        let files = try Self.writeHandCase()
        defer { try? FileManager.default.removeItem(at: files.directory) }
        let missing = try Self.bench(["--scores", files.directory.path + "/none.npy", "--labels", files.labels])
        #expect(missing.status == 2)
        #expect(missing.standardError.contains("none.npy"))
        // Labels 255 without --ignore-index are out of range.
        let badLabel = try Self.bench(["--scores", files.scores, "--labels", files.labels, "--backend", "cpu"])
        #expect(badLabel.status == 2)
        #expect(badLabel.standardError.contains("label 255"))
        // Labels of the wrong shape.
        let wrong = try NumPyFixtures.write(NumPyFixtures.integers([UInt8](repeating: 0, count: 8), shape: [2, 4]), named: "w.npy", in: files.directory)
        let shape = try Self.bench(["--scores", files.scores, "--labels", wrong, "--ignore-index", "255"])
        #expect(shape.status == 2)
        #expect(shape.standardError.contains("[2, 4]"))
    }

    @Test(arguments: [
        (["--workload", "imagenet"], "imagenet"),
        (["--repeat", "0"], "--repeat"),
        (["--scores", "s.npy"], "--labels"),
        (["--per-image"], "--scores"),
        (["--scores", "s.npy", "--labels", "y.npy", "--workload", "voc"], "--workload"),
        (["--alternate-threads", "2"], "--alternate-threads"),
        (["--alternate-threads", "0,2"], "--alternate-threads"),
        (["--alternate-threads", "2,2"], "--alternate-threads"),
        (["--alternate-threads", "1,2,4"], "--alternate-threads"),
        (["--alternate-threads", "1,2", "--threads", "2"], "--threads"),
        (["--alternate-threads", "1,2", "--backend", "opencl"], "CPU backend only"),
        (["--alternate-threads", "1,2", "--memory"], "--memory"),
    ])
    func badCommandLinesFailWithAMessage(arguments: [String], mention: String) throws {
        let outcome = try Self.bench(arguments)
        #expect(outcome.status != 0)
        #expect(outcome.standardError.contains(mention), "\(outcome.standardError)")
        #expect(outcome.standardOutput.isEmpty)
    }
}
