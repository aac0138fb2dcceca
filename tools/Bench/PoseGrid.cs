using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Inference;
using HeadTracking.Runtime.Pose;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Synthesis;

namespace HeadTracking.Bench;

/// <summary>What the pose grid runs.</summary>
internal sealed record PoseGridOptions
{
    public string? Model { get; init; }

    /// <summary>Held-out synthetic people, each rendered at every pose of the grid.</summary>
    public int People { get; init; } = 4;

    /// <summary>How far the grid turns, nods and tilts either way, degrees (steps of 15, 10 and 10).</summary>
    public double Yaw { get; init; } = 75;

    public double Pitch { get; init; } = 20;

    public double Roll { get; init; } = 30;

    /// <summary>Face width as a fraction of the image.</summary>
    public double Face { get; init; } = 0.45;

    public double Fov { get; init; } = 60;

    public int Seed { get; init; } = 1;

    public string Out { get; init; } = Path.Combine("out", "bench");
}

/// <summary>
/// headtracker-bench grid: how the model reads each pose where the face is plain to see. Held-out
/// synthetic people are rendered at every pose of a grid (yaw every 15°, pitch and roll every 10°),
/// whole, centred, unoccluded, at the model's input size, and run once each as
/// <c>headtracker-train eval</c> runs a still (a ray-frame pose turned by the true head centre's
/// ray). For each yaw of the grid it reports the mean absolute errors, the mean signed yaw error,
/// and how much of a change of pitch and of roll the model reads (the slope of its angle on the
/// true one, over that yaw's images: 1 reads all of it, 0 none). Unlike <c>eval</c>'s random
/// stills (faces cut by the frame, small, occluded), it separates what a pose costs from what the
/// framing costs; unlike <c>accuracy</c>'s footage, the angles vary independently.
/// </summary>
internal static class PoseGrid
{
    public static int Run(PoseGridOptions o, TextWriter log)
    {
        string model = Program.ModelOrShipped(o.Model);
        using var head = new HeadModel(model, 1);
        if (!head.Manifest.Outputs.Exists(x => x.Kind == OutputKinds.Pose))
        {
            throw new InvalidDataException($"{model}: the model has no pose head; grid measures the pose");
        }

        int size = (int)head.Manifest.Input.Shape[^1];
        (HeadSynthesizer synth, List<(int Index, string Person)> people) = Accuracy.HeldOut(size, o.Seed, o.People);
        double[] yaws = Steps(o.Yaw, 15), pitches = Steps(o.Pitch, 10), rolls = Steps(o.Roll, 10);
        Directory.CreateDirectory(o.Out);
        log.WriteLine($"Machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        log.WriteLine(string.Format(CultureInfo.InvariantCulture,
            "Model: {0}, one still each ({1}x{1}, as eval runs it). Renders: {2} held-out synthetic people ({3}), whole, centred and unoccluded, face {4:F2} of the width, horizontal FOV {5} deg, seed {6}; " +
            "yaw {7}, pitch {8}, roll {9} deg: {10} images",
            model, size, people.Count, string.Join(", ", people.Select(p => p.Person)), o.Face, o.Fov, o.Seed,
            List(yaws), List(pitches), List(rolls), people.Count * yaws.Length * pitches.Length * rolls.Length));

        var reads = new List<Read>();
        var outputs = new HeadOutputs();
        double[] apparent = new double[9], camera = new double[9];
        foreach ((int index, _) in people)
        {
            foreach (double yaw in yaws)
            {
                foreach (double pitch in pitches)
                {
                    foreach (double roll in rolls)
                    {
                        using SynthSample sample = synth.Generate(index, new SynthScene(yaw, pitch, roll, 0.5, 0.5, o.Face, o.Fov));
                        head.Run(sample.Image, outputs);
                        HeadLabel t = sample.Label;
                        double[] k = t.Intrinsics!;
                        double py, pp, pr;
                        if (outputs.PoseRelativeToRay)
                        {
                            for (int i = 0; i < 9; i++)
                            {
                                apparent[i] = outputs.RotationMatrix[i];
                            }

                            Rotation.RayToCamera(apparent, (t.Center![0] - k[2]) / k[0], (t.Center[1] - k[3]) / k[1], camera);
                            (py, pp, pr) = Rotation.ToEuler(camera);
                        }
                        else
                        {
                            (py, pp, pr) = (outputs.Yaw, outputs.Pitch, outputs.Roll);
                        }

                        reads.Add(new Read(index, t.Pose!.Yaw, t.Pose.Pitch, t.Pose.Roll, py, pp, pr));
                    }
                }
            }
        }

        Accuracy.WriteJsonLines(Path.Combine(o.Out, "grid.jsonl"), reads.Select(r => (object)new { index = r.Index, yaw = r.Yaw, pitch = r.Pitch, roll = r.Roll, read_yaw = r.ReadYaw, read_pitch = r.ReadPitch, read_roll = r.ReadRoll }));
        string F(double v) => double.IsNaN(v) ? "    -" : v.ToString("F2", CultureInfo.InvariantCulture).PadLeft(5);
        log.WriteLine();
        log.WriteLine("  true yaw  images   abs error yaw pitch  roll   signed yaw   pitch read  roll read");
        var rows = new List<object>();
        foreach (double yaw in yaws)
        {
            List<Read> at = [.. reads.Where(r => r.Yaw == yaw)];
            double[] mae = Mae(at);
            double signed = at.Average(r => Signed(r.ReadYaw, r.Yaw));
            double pitchRead = Slope(at, r => r.Pitch, r => r.ReadPitch), rollRead = Slope(at, r => r.Roll, r => r.ReadRoll);
            log.WriteLine(string.Format(CultureInfo.InvariantCulture, "  {0,7:F0}°  {1,6}   {2,13:F1} {3,5:F1} {4,5:F1}   {5,9:+0.0;-0.0}°   {6,10} {7,10}",
                yaw, at.Count, mae[0], mae[1], mae[2], signed, F(pitchRead), F(rollRead)));
            rows.Add(new { yaw, images = at.Count, mae = Accuracy.Axes(mae), signed_yaw = signed, pitch_read = Json(pitchRead), roll_read = Json(rollRead) });
        }

        double[] all = Mae(reads);
        log.WriteLine(string.Format(CultureInfo.InvariantCulture, "  all       {0,6}   {1,13:F1} {2,5:F1} {3,5:F1}", reads.Count, all[0], all[1], all[2]));
        string json = Path.Combine(o.Out, "grid.json");
        var report = new
        {
            machine = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}",
            model = Path.GetFileName(model),
            renders = new { people = people.Select(p => p.Person).ToArray(), size, face = o.Face, fov = o.Fov, seed = o.Seed, yaw = yaws, pitch = pitches, roll = rolls },
            mae = Accuracy.Axes(all),
            by_yaw = rows,
        };
        File.WriteAllText(json + ".tmp", JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        File.Move(json + ".tmp", json, overwrite: true);
        log.WriteLine($"Wrote {Path.GetFullPath(json)} and grid.jsonl (every image's truth and reading)");
        return 0;
    }

    /// <summary>One image: whose face, its true yaw, pitch and roll and the model's.</summary>
    private sealed record Read(int Index, double Yaw, double Pitch, double Roll, double ReadYaw, double ReadPitch, double ReadRoll);

    /// <summary>0, ±step, ±2 step, ... within ±max.</summary>
    private static double[] Steps(double max, double step) =>
        [.. Enumerable.Range(-(int)Math.Floor(max / step), (2 * (int)Math.Floor(max / step)) + 1).Select(i => i * step)];

    private static string List(double[] v) => v.Length == 1 ? "0" : string.Create(CultureInfo.InvariantCulture, $"{v[0]:F0} to {v[^1]:F0}");

    private static double Signed(double read, double truth) => ((read - truth + 540) % 360) - 180;

    private static double[] Mae(List<Read> reads) =>
    [
        reads.Average(r => Rotation.AngleDifference(r.ReadYaw, r.Yaw)),
        reads.Average(r => Rotation.AngleDifference(r.ReadPitch, r.Pitch)),
        reads.Average(r => Rotation.AngleDifference(r.ReadRoll, r.Roll)),
    ];

    /// <summary>Least-squares slope of the model's angle on the true one; NaN when the truth does not vary.</summary>
    private static double Slope<T>(IReadOnlyCollection<T> items, Func<T, double> truth, Func<T, double> read)
    {
        double mt = items.Average(truth), mr = items.Average(read);
        double cov = items.Sum(i => (truth(i) - mt) * (read(i) - mr)), var = items.Sum(i => Math.Pow(truth(i) - mt, 2));
        return var > 0 ? cov / var : double.NaN;
    }

    private static double? Json(double v) => double.IsNaN(v) ? null : v;
}
