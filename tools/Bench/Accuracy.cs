using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading.Tasks;
using HeadTracking.Runtime;
using HeadTracking.Runtime.Pose;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Synthesis;
using OpenCvSharp;

namespace HeadTracking.Bench;

/// <summary>What the accuracy benchmark runs.</summary>
internal sealed record AccuracyOptions
{
    public string? Model { get; init; }

    /// <summary>Held-out synthetic people, one clip each per motion range.</summary>
    public int People { get; init; } = 4;

    public int Frames { get; init; } = 300;

    public int Size { get; init; } = 480;

    public double Face { get; init; } = 0.3;

    public double Fov { get; init; } = 60;

    public int Seed { get; init; } = 1;

    /// <summary>How far the heads turn, nod and tilt either way, one set of clips per range.</summary>
    public IReadOnlyList<SynthMotion> Ranges { get; init; } = [new SynthMotion(35, 15, 12), new SynthMotion(60, 30, 25)];

    public string Out { get; init; } = Path.Combine("out", "bench");

    /// <summary>Ranges as the option writes them: YAW/PITCH/ROLL, comma-separated (e.g.
    /// 35/15/12,60/30/25); null when the text is not that.</summary>
    public static List<SynthMotion>? ParseRanges(string? text)
    {
        var ranges = new List<SynthMotion>();
        foreach (string range in (text ?? "").Split(',', StringSplitOptions.TrimEntries))
        {
            string[] parts = range.Split('/');
            double[] v = new double[3];
            if (parts.Length != 3 || !Enumerable.Range(0, 3).All(i => double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out v[i]) && v[i] >= 0)
                || v[0] > 90 || v[1] > 60 || v[2] > 60)
            {
                return null;
            }

            ranges.Add(new SynthMotion(v[0], v[1], v[2]));
        }

        return ranges;
    }
}

/// <summary>
/// headtracker-bench accuracy: how far the pose a game reads is from the truth, through the whole
/// tracker as a user runs it (two-stage: BlazeFace finds the head, the model follows it; the
/// default filter), frames pushed at 30 per second. The footage is <see cref="SynthVideo"/>'s: a
/// synthetic person the model never trained on (held-out identities), turning, nodding, tilting,
/// drifting and coming closer along smooth paths, with the exact pose of every frame. Each motion
/// range is played by each person; the figures are mean absolute errors of yaw, pitch and roll
/// (raw and filtered) and of the head centre, beside those of always answering the clip's mean pose,
/// and the raw errors by how far the head is turned.
/// </summary>
internal static class Accuracy
{
    private static readonly (double From, double To)[] YawBins = [(0, 30), (30, 45), (45, 90.001)];

    public static int Run(AccuracyOptions o, TextWriter log)
    {
        string model = Program.ModelOrShipped(o.Model);
        string detector = ExternalData.Find(Path.Combine("blazeface", "face_detection_front_128x128_barracuda.onnx"));
        Directory.CreateDirectory(o.Out);
        (HeadSynthesizer synth, List<(int Index, string Person)> people) = HeldOut(o.Size, o.Seed, o.People);
        var options = new HeadTrackerOptions { ModelPath = model, DetectorPath = detector, PushedFrames = true, HorizontalFovDegrees = o.Fov };
        log.WriteLine($"Machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        log.WriteLine(string.Format(CultureInfo.InvariantCulture,
            "Model: {0}; two-stage; default filter. Footage: {1} held-out synthetic people ({2}), {3} frames each at {4}x{4}, face {5:F2} of the width, horizontal FOV {6} deg, seed {7}",
            model, people.Count, string.Join(", ", people.Select(p => p.Person)), o.Frames, o.Size, o.Face, o.Fov, o.Seed));

        var results = new List<object>();
        foreach (SynthMotion range in o.Ranges)
        {
            var pairs = new List<(TrackedFrame Frame, HeadLabel Truth)>();
            var truths = new List<HeadLabel>();
            int pushed = 0;
            foreach ((int index, string person) in people)
            {
                (List<Mat> frames, HeadLabel[] labels) = Render(synth, index, range, o);
                string record = Path.Combine(o.Out, string.Create(CultureInfo.InvariantCulture, $"accuracy-{range.Yaw:F0}-{range.Pitch:F0}-{range.Roll:F0}-{index}.jsonl"));
                WriteTruth(Path.ChangeExtension(record, ".truth.jsonl"), labels);
                List<TrackedFrame> tracked = PushedClip.Track(frames, options, record);
                frames.ForEach(m => m.Dispose());
                pairs.AddRange(tracked.Where(f => f.Valid && f.Index >= 0 && f.Index < labels.Length).Select(f => (f, labels[f.Index])));
                truths.AddRange(labels);
                pushed += labels.Length;
            }

            // Always answering the footage's mean pose: what the errors would be with no tracking.
            double[] mean = [.. Enumerable.Range(0, 3).Select(k => truths.Average(t => Angle(t, k)))];
            double[] baseline = [.. Enumerable.Range(0, 3).Select(k => truths.Average(t => Rotation.AngleDifference(Angle(t, k), mean[k])))];
            double[] raw = Errors(pairs, f => f.Raw), filtered = Errors(pairs, f => f.Filtered);
            double centre = pairs.Count == 0 ? double.NaN : pairs.Average(p => Math.Sqrt(Math.Pow(p.Frame.CenterX - p.Truth.Center![0], 2) + Math.Pow(p.Frame.CenterY - p.Truth.Center[1], 2)));
            var bins = YawBins.Select(b =>
            {
                var inBin = pairs.Where(p => Math.Abs(p.Truth.Pose!.Yaw) >= b.From && Math.Abs(p.Truth.Pose.Yaw) < b.To).ToList();
                return (b.From, b.To, Frames: inBin.Count, Raw: Errors(inBin, f => f.Raw));
            }).Where(b => b.Frames > 0).ToList();

            string Deg(double[] e) => string.Format(CultureInfo.InvariantCulture, "{0,5:F1} {1,5:F1} {2,5:F1}", e[0], e[1], e[2]);
            log.WriteLine();
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"range ±{range.Yaw}° yaw, ±{range.Pitch}° pitch, ±{range.Roll}° roll: {pairs.Count}/{pushed} frames tracked"));
            log.WriteLine("  mean absolute error, degrees     yaw pitch  roll");
            log.WriteLine($"  raw                            {Deg(raw)}");
            log.WriteLine($"  filtered (what a game reads)   {Deg(filtered)}");
            log.WriteLine($"  always the footage's mean pose {Deg(baseline)}");
            foreach (var b in bins)
            {
                log.WriteLine(string.Format(CultureInfo.InvariantCulture, "  raw, |yaw| {0,2:F0}-{1,2:F0}° ({2,4} frames)  {3}", b.From, Math.Floor(b.To), b.Frames, Deg(b.Raw)));
            }

            log.WriteLine(string.Format(CultureInfo.InvariantCulture, "  head centre {0:F1} px", centre));
            results.Add(new
            {
                range = new { yaw = range.Yaw, pitch = range.Pitch, roll = range.Roll },
                frames = pushed,
                tracked = pairs.Count,
                raw = Axes(raw),
                filtered = Axes(filtered),
                mean_answer = Axes(baseline),
                centre_px = centre,
                by_yaw = bins.Select(b => new { from = b.From, to = Math.Floor(b.To), frames = b.Frames, raw = Axes(b.Raw) }).ToArray(),
            });
        }

        string json = Path.Combine(o.Out, "accuracy.json");
        var report = new
        {
            machine = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}",
            model = Path.GetFileName(model),
            footage = new { people = people.Select(p => p.Person).ToArray(), frames = o.Frames, size = o.Size, face = o.Face, fov = o.Fov, seed = o.Seed },
            ranges = results,
        };
        File.WriteAllText(json + ".tmp", JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        File.Move(json + ".tmp", json, overwrite: true);
        log.WriteLine($"Wrote {Path.GetFullPath(json)}");
        return 0;
    }

    /// <summary>A synthesizer of <paramref name="size"/> x <paramref name="size"/> images of the
    /// held-out people only, never occluded, and the sample indices that show <paramref name="count"/>
    /// different ones of them (as many as there are).</summary>
    internal static (HeadSynthesizer Synth, List<(int Index, string Person)> People) HeldOut(int size, int seed, int count)
    {
        var options = new SynthOptions { Size = size, Seed = seed, ValidFraction = 1, OcclusionProbability = 0 };
        HeadSynthesizer synth = SynthWriter.Create(options, new SynthWriter.Sources(), TextWriter.Null);
        return (synth, People(synth, count));
    }

    /// <summary>Sample indices that show <paramref name="count"/> different held-out people (the
    /// synthesizer picks the person from the index), as many as there are.</summary>
    private static List<(int Index, string Person)> People(HeadSynthesizer synth, int count)
    {
        var people = new List<(int, string)>();
        for (int index = 0; index < 200 && people.Count < Math.Min(count, synth.ValidIdentities); index++)
        {
            using SynthSample sample = synth.Generate(index, SynthVideo.Scene(0, 30, 60));
            string person = sample.Label.Identity ?? $"sample {index}";
            if (!people.Exists(p => p.Item2 == person))
            {
                people.Add((index, person));
            }
        }

        return people;
    }

    private static (List<Mat> Frames, HeadLabel[] Labels) Render(HeadSynthesizer synth, int index, SynthMotion range, AccuracyOptions o)
    {
        var frames = new Mat[o.Frames];
        var labels = new HeadLabel[o.Frames];
        Parallel.For(0, o.Frames, i =>
        {
            using SynthSample sample = synth.Generate(index, SynthVideo.Scene(i, 30, o.Fov, o.Face, range));
            frames[i] = sample.Image.Clone();
            labels[i] = sample.Label;
        });
        return ([.. frames], labels);
    }

    /// <summary>The truth of every pushed frame, numbered as the tracker's record numbers them
    /// (frame 1 is the first pushed), so the two files pair line by line on "frame".</summary>
    private static void WriteTruth(string path, HeadLabel[] labels) =>
        WriteJsonLines(path, labels.Select((t, i) => (object)new { frame = i + 1, yaw = t.Pose!.Yaw, pitch = t.Pose.Pitch, roll = t.Pose.Roll, center = t.Center }));

    /// <summary>One JSON object a line, written beside <paramref name="path"/> and renamed into place.</summary>
    internal static void WriteJsonLines(string path, IEnumerable<object> lines)
    {
        using (var w = new StreamWriter(path + ".tmp"))
        {
            foreach (object line in lines)
            {
                w.WriteLine(JsonSerializer.Serialize(line));
            }
        }

        File.Move(path + ".tmp", path, overwrite: true);
    }

    private static double Angle(HeadLabel t, int axis) => axis switch { 0 => t.Pose!.Yaw, 1 => t.Pose!.Pitch, _ => t.Pose!.Roll };

    /// <summary>Mean absolute yaw, pitch and roll errors of the tracked frames.</summary>
    private static double[] Errors(List<(TrackedFrame Frame, HeadLabel Truth)> pairs, Func<TrackedFrame, double[]> pose) =>
        [.. Enumerable.Range(0, 3).Select(k => pairs.Count == 0 ? double.NaN : pairs.Average(p => Rotation.AngleDifference(pose(p.Frame)[3 + k], Angle(p.Truth, k))))];

    internal static object Axes(double[] e) => new { yaw = e[0], pitch = e[1], roll = e[2] };
}
