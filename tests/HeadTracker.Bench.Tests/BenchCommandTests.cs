using System;
using System.Globalization;
using System.Linq;
using System.IO;
using System.Text.RegularExpressions;
using HeadTracking.Tests;

namespace HeadTracking.Bench.Tests;

public class BenchCommandTests
{
    [Fact]
    public void Synth_benchmark_runs_and_reports_a_rate_computed_from_its_own_timing()
    {
        var r = Processes.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "headtracker-bench.dll"), "synth", "40"], timeoutSeconds: 300);
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains("cores", r.StdOut, StringComparison.Ordinal);
        MatchCollection lines = Regex.Matches(r.StdOut, @"synth 128x128:\s+(\d+) images/s on (\d+) thread\(s\) \((\d+) images, ([\d.]+) s\)");
        Assert.Equal(2, lines.Count);
        foreach (Match m in lines)
        {
            double rate = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            double images = double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
            double seconds = double.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture);
            Assert.Equal(40, images);
            Assert.InRange(rate, (images / seconds) * 0.9, (images / seconds) * 1.1); // the rate is the count over the time it printed
        }
    }

    [Fact]
    public void A_camera_that_is_not_there_is_named()
    {
        var r = Processes.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "headtracker-bench.dll"), "latency", "--camera", "7", "--frames", "5"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("camera 7", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Stability_benchmark_measures_a_still_a_noisy_and_a_moving_real_face()
    {
        string outDir = Repo.NewTempDir("bench-stability");
        try
        {
            string bench = Path.Combine(AppContext.BaseDirectory, "headtracker-bench.dll");
            var r = Processes.Run("dotnet", [bench, "stability", "--out", outDir], timeoutSeconds: 300);
            Assert.True(r.ExitCode == 0, r.All);
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "stability.json")));
            var root = doc.RootElement;
            var identical = root.GetProperty("identical");
            Assert.True(identical.GetProperty("tracked").GetInt32() >= 40, r.StdOut);
            Assert.Equal(0, identical.GetProperty("raw_change").GetDouble()); // the crop settles: the same frame, the same pose
            var noisy = root.GetProperty("noisy");
            Assert.True(noisy.GetProperty("frames").GetInt32() >= 80, r.StdOut);
            Assert.True(noisy.GetProperty("filtered_deg").GetDouble() < noisy.GetProperty("raw_deg").GetDouble(), r.StdOut);
            var moving = root.GetProperty("moving");
            Assert.True(moving.GetProperty("tracked").GetInt32() >= 270, r.StdOut);
            Assert.True(moving.GetProperty("centre_px").GetDouble() < 60, r.StdOut); // follows the face (today 20 px); a lost or wrong face is 100+
            Assert.Contains("identical frames", r.StdOut, StringComparison.Ordinal);
            // Each phase's per-frame record stays for a look: one JSON line per tracked frame.
            Assert.True(File.ReadLines(Path.Combine(outDir, "stability-moving.jsonl")).Count(l => l.Contains("\"valid\":true", StringComparison.Ordinal)) >= moving.GetProperty("tracked").GetInt32(), r.StdOut);
            Assert.True(File.ReadLines(Path.Combine(outDir, "stability-noisy.jsonl")).Count() >= noisy.GetProperty("frames").GetInt32(), r.StdOut);

            var help = Processes.Run("dotnet", [bench, "stability", "--help"]);
            Assert.True(help.ExitCode == 0 && help.StdOut.Contains("--deadband", StringComparison.Ordinal) && help.StdOut.Contains("--hold-deg", StringComparison.Ordinal), help.All);
            var badHold = Processes.Run("dotnet", [bench, "stability", "--hold-deg", "-1"]);
            Assert.Equal(2, badHold.ExitCode);
            Assert.Contains("--hold-deg", badHold.StdErr, StringComparison.Ordinal);
            var bad = Processes.Run("dotnet", [bench, "stability", "--deadband", "0.7"]);
            Assert.Equal(2, bad.ExitCode);
            Assert.Contains("--deadband", bad.StdErr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
        }
    }

    [Fact]
    public void Accuracy_benchmark_measures_the_pose_of_held_out_synthetic_people_against_their_truth()
    {
        string outDir = Repo.NewTempDir("bench-accuracy");
        try
        {
            string bench = Path.Combine(AppContext.BaseDirectory, "headtracker-bench.dll");
            var r = Processes.Run("dotnet", [bench, "accuracy", "--people", "2", "--frames", "90", "--size", "320", "--ranges", "35/15/12", "--out", outDir], timeoutSeconds: 300);
            Assert.True(r.ExitCode == 0, r.All);
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "accuracy.json")));
            var people = doc.RootElement.GetProperty("footage").GetProperty("people").EnumerateArray().Select(p => p.GetString()).ToArray();
            Assert.Equal(2, people.Distinct().Count()); // two different people
            Assert.All(people, p => Assert.StartsWith("sample6.jpg#", p, StringComparison.Ordinal)); // the held-out photo's
            var range = Assert.Single(doc.RootElement.GetProperty("ranges").EnumerateArray().ToArray());
            Assert.Equal(180, range.GetProperty("frames").GetInt32());
            Assert.True(range.GetProperty("tracked").GetInt32() >= 160, r.StdOut);
            foreach (string axis in new[] { "yaw", "pitch", "roll" })
            {
                double raw = range.GetProperty("raw").GetProperty(axis).GetDouble(), mean = range.GetProperty("mean_answer").GetProperty(axis).GetDouble();
                // The shipped model follows the head: today 3-4 degrees against 7-21 for always the mean
                // pose; a model that ignored the picture would sit at the mean's error, a wrong sign above it.
                Assert.True(raw < 0.6 * mean && raw < 8, $"{axis}: {raw:F1} deg against {mean:F1} for the mean pose\n{r.StdOut}");
            }

            Assert.True(range.GetProperty("centre_px").GetDouble() < 40, r.StdOut); // faces 96 px wide; a lost head is 100+
            Assert.Contains("filtered (what a game reads)", r.StdOut, StringComparison.Ordinal);
            string[] truths = Directory.GetFiles(outDir, "accuracy-35-15-12-*.truth.jsonl");
            Assert.Equal(4, Directory.GetFiles(outDir, "accuracy-35-15-12-*.jsonl").Length); // each clip's per-frame record stays, with its truth
            Assert.Equal(2, truths.Length);
            foreach (string truth in truths)
            {
                // A truth line per pushed frame, numbered from 1 as the tracker's record numbers its frames.
                string[] lines = File.ReadAllLines(truth);
                Assert.Equal(90, lines.Length);
                using var first = System.Text.Json.JsonDocument.Parse(lines[0]);
                Assert.Equal(1, first.RootElement.GetProperty("frame").GetInt32());
                Assert.True(Math.Abs(first.RootElement.GetProperty("yaw").GetDouble()) <= 35, lines[0]);
            }

            var bad = Processes.Run("dotnet", [bench, "accuracy", "--ranges", "35/15"]);
            Assert.Equal(2, bad.ExitCode);
            Assert.Contains("--ranges", bad.StdErr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
        }
    }

    [Fact]
    public void Grid_benchmark_reads_each_pose_of_held_out_people_and_how_much_of_each_angle()
    {
        string outDir = Repo.NewTempDir("bench-grid");
        try
        {
            string bench = Path.Combine(AppContext.BaseDirectory, "headtracker-bench.dll");
            var r = Processes.Run("dotnet", [bench, "grid", "--people", "1", "--yaw", "30", "--pitch", "10", "--roll", "20", "--out", outDir], timeoutSeconds: 300);
            Assert.True(r.ExitCode == 0, r.All);
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "grid.json")));
            var root = doc.RootElement;
            Assert.Equal(new[] { -30.0, -15, 0, 15, 30 }, root.GetProperty("renders").GetProperty("yaw").EnumerateArray().Select(v => v.GetDouble()));
            Assert.Equal(5 * 3 * 5, File.ReadAllLines(Path.Combine(outDir, "grid.jsonl")).Length); // every image's truth and reading
            foreach (string axis in new[] { "yaw", "pitch", "roll" })
            {
                // Whole, centred faces within 30 degrees of yaw: the shipped model reads 2.7-3.7 degrees
                // today; a wrong sign or a lost convention would be tens of degrees off.
                double mae = root.GetProperty("mae").GetProperty(axis).GetDouble();
                Assert.True(mae < 6, $"{axis}: {mae:F1} deg\n{r.StdOut}");
            }

            var frontal = root.GetProperty("by_yaw").EnumerateArray().Single(row => row.GetProperty("yaw").GetDouble() == 0);
            foreach (string read in new[] { "pitch_read", "roll_read" })
            {
                // The slope of the model's angle on the truth: 0.96-0.97 today; 0 ignores it, -1 reads it backwards.
                double slope = frontal.GetProperty(read).GetDouble();
                Assert.True(slope is > 0.8 and < 1.2, $"{read} at yaw 0: {slope:F2}\n{r.StdOut}");
            }

            Assert.Contains("roll read", r.StdOut, StringComparison.Ordinal);
            var bad = Processes.Run("dotnet", [bench, "grid", "--yaw", "100"]);
            Assert.Equal(2, bad.ExitCode);
            Assert.Contains("--yaw", bad.StdErr, StringComparison.Ordinal);

            // A model that is not ours is named, without a stack trace.
            string notOurs = Path.Combine(outDir, "not-ours.onnx");
            File.Copy(Path.Combine(Repo.Root, "external", "blazeface", "face_detection_front_128x128_barracuda.onnx"), notOurs);
            var foreign = Processes.Run("dotnet", [bench, "grid", "--model", notOurs, "--people", "1", "--out", outDir]);
            Assert.Equal(2, foreign.ExitCode);
            Assert.Contains("not-ours.onnx: no 'headtracker.manifest' metadata", foreign.StdErr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", foreign.StdErr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
        }
    }

    [Fact]
    public void Latency_help_prints_its_options_and_measures_nothing()
    {
        var r = Processes.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "headtracker-bench.dll"), "latency", "--help"]);
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains("--two-stage", r.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("frames after", r.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_benchmark_is_named()
    {
        var r = Processes.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "headtracker-bench.dll"), "warp-drive"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("'warp-drive'", r.StdErr, StringComparison.Ordinal);
    }
}

public class TrainBenchTests
{
    [Fact]
    public void Train_benchmark_reports_torchsharp_and_either_a_pytorch_ratio_or_why_not()
    {
        var r = Processes.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "headtracker-bench.dll"), "train", "1"], timeoutSeconds: 300);
        Assert.True(r.ExitCode == 0, r.All);
        MatchCollection lines = Regex.Matches(r.StdOut, @"train batch 32, (\d+) thread\(s\): TorchSharp\s+([\d.]+) images/s \(([\d,]+) parameters\); (.*)");
        Assert.NotEmpty(lines);
        foreach (Match m in lines)
        {
            Assert.True(double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) > 0);
            string peer = m.Groups[4].Value;
            Match ratio = Regex.Match(peer, @"PyTorch\s+([\d.]+) images/s \(pytorch [^,]+, ([\d,]+) parameters\); TorchSharp / PyTorch = ([\d.]+)");
            if (ratio.Success)
            {
                // The peer builds the same network, and the ratio is computed from the two rates printed.
                Assert.Equal(m.Groups[3].Value, ratio.Groups[2].Value);
                double expected = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) / double.Parse(ratio.Groups[1].Value, CultureInfo.InvariantCulture);
                Assert.InRange(double.Parse(ratio.Groups[3].Value, CultureInfo.InvariantCulture), expected - 0.02, expected + 0.02);
            }
            else
            {
                Assert.StartsWith("PyTorch peer not run: ", peer, StringComparison.Ordinal);
            }
        }
    }
}

public sealed class LatencyBenchTests : IDisposable
{
    private readonly string _dir = Repo.NewTempDir("latency");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Latency_benchmark_writes_every_field_and_its_ratios_come_from_its_own_numbers()
    {
        string clip = Path.Combine(_dir, "faces.avi");
        using (var writer = new OpenCvSharp.VideoWriter(clip, OpenCvSharp.FourCC.MJPG, 30, new OpenCvSharp.Size(640, 480)))
        {
            foreach (string name in new[] { "sample1.jpg", "sample2.jpg", "sample3.jpg" })
            {
                using var photo = OpenCvSharp.Cv2.ImRead(Repo.Fetched(Path.Combine("faces", name)));
                using var frame = photo.Resize(new OpenCvSharp.Size(640, 480));
                writer.Write(frame);
            }
        }

        string outDir = Path.Combine(_dir, "out");
        var r = Processes.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "headtracker-bench.dll"), "latency", "--video", clip, "--frames", "40", "--warmup", "5", "--size", "320x240", "--two-stage", "--out", outDir], timeoutSeconds: 300);
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains("ONNX Runtime", r.StdOut, StringComparison.Ordinal);
        foreach (string row in new[] { "floor: bare Run", "OpenCV dnn (blob+fwd)", "BlazeFace detector", "pipeline overhead / floor" })
        {
            Assert.Contains(row, r.StdOut, StringComparison.Ordinal);
        }

        Assert.True(new FileInfo(Path.Combine(outDir, "latency.png")).Length > 1000);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "bench.json")));
        var run = Assert.Single(json.RootElement.EnumerateArray().ToArray());
        Assert.Equal("320x240", run.GetProperty("input").GetString());
        Assert.Equal(40, run.GetProperty("frames").GetInt32());
        Assert.True(run.GetProperty("two_stage").GetBoolean());
        var pipeline = run.GetProperty("pipeline");
        foreach (string stage in new[] { "capture", "detect", "preprocess", "inference", "decode", "pose", "publish", "total (no capture)", "overhead", "total" })
        {
            var s = pipeline.GetProperty(stage);
            double p50 = s.GetProperty("p50").GetDouble(), p95 = s.GetProperty("p95").GetDouble(), p99 = s.GetProperty("p99").GetDouble(), max = s.GetProperty("max").GetDouble();
            Assert.True(p50 >= 0 && p50 <= p95 && p95 <= p99 && p99 <= max, $"{stage}: percentiles out of order");
        }

        Assert.True(pipeline.GetProperty("inference").GetProperty("p50").GetDouble() > 0);
        Assert.True(pipeline.GetProperty("detect").GetProperty("max").GetDouble() > 0, "two-stage: the detector ran at least once");
        foreach (string field in new[] { "frames_per_second", "cpu_milliseconds_per_frame", "allocated_bytes_per_frame" })
        {
            Assert.True(run.GetProperty(field).GetDouble() >= 0, field);
        }

        Assert.Equal(0, run.GetProperty("allocated_bytes_per_frame").GetDouble());
        double P50(System.Text.Json.JsonElement e) => e.GetProperty("p50").GetDouble();
        var ratios = run.GetProperty("ratios");
        Assert.Equal(P50(pipeline.GetProperty("overhead")) / P50(run.GetProperty("floor")), ratios.GetProperty("overhead_over_floor_p50").GetDouble(), 9);
        Assert.Equal(P50(pipeline.GetProperty("total (no capture)")) / P50(run.GetProperty("floor")), ratios.GetProperty("pipeline_over_floor_p50").GetDouble(), 9);
        Assert.Equal(P50(pipeline.GetProperty("overhead")) / P50(pipeline.GetProperty("inference")), ratios.GetProperty("overhead_over_inference_p50").GetDouble(), 9);
        Assert.True(ratios.GetProperty("opencv_dnn_over_ours_p50").GetDouble() > 0);
        Assert.True(P50(run.GetProperty("open_cv_dnn")) > 0 && P50(run.GetProperty("blaze_face")) > 0);
    }
}
