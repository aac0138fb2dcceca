using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using HeadTracking.Runtime;
using HeadTracking.Runtime.Contract;
using HeadTracking.Trainer.Synthesis;
using OpenCvSharp;

namespace HeadTracking.Bench;

/// <summary>What the stability benchmark runs.</summary>
internal sealed record StabilityOptions
{
    public string? Model { get; init; }

    public string? Photo { get; init; }

    public double Sigma { get; init; } = 2;

    public int Seed { get; init; } = 15;

    /// <summary>Noise draws of the still phase, seeds <see cref="Seed"/> on.</summary>
    public int Draws { get; init; } = 4;

    public double? MinCutoff { get; init; }

    public double? Beta { get; init; }

    public double? DerivativeCutoff { get; init; }

    public double? Deadband { get; init; }

    public double? HoldDegrees { get; init; }

    public double? HoldCm { get; init; }

    public string Out { get; init; } = Path.Combine("out", "bench");
}

/// <summary>
/// headtracker-bench stability: what a user sees of a still and a moving real face, through the
/// whole tracker in two-stage mode (BlazeFace finds the face, the model follows it), frames pushed
/// at 30 per second as a camera delivers them. The clip is a real photo (<see cref="PhotoVideo"/>):
/// (1) 45 byte-identical frames: how much the raw pose still changes once the crop has settled
/// (frame 10 on); (2) 150 frames of the same picture under camera noise (Gaussian, sigma 2 grey
/// levels, one fixed seed per draw, four draws): the spread of the raw and filtered pose over the
/// last 90, mean and worst of the draws; (3) 300 frames
/// of the photo rolling (±12 deg), zooming and drifting along a known path: roll error against the
/// path, yaw and pitch wander (the truth never turns), centre error, and the filter's lag.
/// </summary>
internal static class Stability
{
    public static int Run(StabilityOptions o, TextWriter log)
    {
        string model = Program.ModelOrShipped(o.Model);
        string detector = ExternalData.Find(Path.Combine("blazeface", "face_detection_front_128x128_barracuda.onnx"));
        string photo = o.Photo ?? Path.Combine(ExternalData.Find("faces"), "sample6.jpg");
        Directory.CreateDirectory(o.Out);
        using var clip = new PhotoVideo(photo, detector);
        var options = new HeadTrackerOptions { ModelPath = model, DetectorPath = detector, PushedFrames = true };
        options.MinCutoff = o.MinCutoff ?? options.MinCutoff;
        options.Beta = o.Beta ?? options.Beta;
        options.DerivativeCutoff = o.DerivativeCutoff ?? options.DerivativeCutoff;
        options.CropDeadband = o.Deadband ?? options.CropDeadband;
        options.RotationHoldDegrees = o.HoldDegrees ?? options.RotationHoldDegrees;
        options.PositionHoldCm = o.HoldCm ?? options.PositionHoldCm;
        log.WriteLine($"Machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        log.WriteLine($"Model: {model}; photo: {clip.Photo} ({clip.Width}x{clip.Height}, face a third of the width); two-stage; " +
            string.Format(CultureInfo.InvariantCulture, "One Euro min cutoff {0} Hz, beta {1}, derivative cutoff {2} Hz; hold {3} deg, {4} cm; crop dead band {5}", options.MinCutoff, options.Beta, options.DerivativeCutoff, options.RotationHoldDegrees, options.PositionHoldCm, options.CropDeadband));

        var still = new PhotoMotion(0, 1, 0, 0);
        using var clean = new Mat();
        clip.Render(still, clean);
        Cv2.ImWrite(Path.Combine(o.Out, "stability-still.png"), clean);

        // (1) Byte-identical frames.
        List<TrackedFrame> identical = PushedClip.Track(Enumerable.Repeat(clean, 45).ToList(), options, Path.Combine(o.Out, "stability-identical.jsonl"));
        List<TrackedFrame> settled = [.. identical.Where(f => f.Index >= 10)];
        double change = settled.Count == 0 ? double.NaN : settled.Max(f => f.Raw.Zip(settled[0].Raw).Max(p => Math.Abs(p.First - p.Second)));
        int validIdentical = identical.Count(f => f.Valid);

        // (2) The same picture under camera noise, one draw per seed (the first draw's frames are
        //     the ones written, and its rest pose is the moving phase's zero).
        double f0 = Conventions.FocalPixels(clip.Width, options.HorizontalFovDegrees);
        var draws = new List<(int Seed, int Frames, double RawDeg, double RawPx, double FiltDeg, double FiltPx)>();
        List<TrackedFrame> noisy = [], window = [];
        for (int d = 0; d < o.Draws; d++)
        {
            var random = new Random(o.Seed + d);
            var noisyFrames = new List<Mat>();
            for (int i = 0; i < 150; i++)
            {
                noisyFrames.Add(Noisy(clean, random, o.Sigma));
            }

            List<TrackedFrame> drawn = PushedClip.Track(noisyFrames, options, Path.Combine(o.Out, d == 0 ? "stability-noisy.jsonl" : $"stability-noisy-{o.Seed + d}.jsonl"));
            noisyFrames.ForEach(m => m.Dispose());
            List<TrackedFrame> last = [.. drawn.Where(f => f.Index >= 60 && f.Valid)];
            (double deg, double px) Spread(Func<TrackedFrame, double[]> pose) => last.Count < 2 ? (double.NaN, double.NaN) :
                (new[] { 3, 4, 5 }.Max(k => Sd(last.Select(f => pose(f)[k]))),
                 Math.Max(Sd(last.Select(f => f0 * pose(f)[0] / pose(f)[2])), Sd(last.Select(f => f0 * pose(f)[1] / pose(f)[2]))));
            (double drawRawDeg, double drawRawPx) = Spread(f => f.Raw);
            (double drawFiltDeg, double drawFiltPx) = Spread(f => f.Filtered);
            draws.Add((o.Seed + d, last.Count, drawRawDeg, drawRawPx, drawFiltDeg, drawFiltPx));
            if (d == 0)
            {
                (noisy, window) = (drawn, last);
            }
        }

        (double rawDeg, double rawPx, double filtDeg, double filtPx) = (draws.Average(x => x.RawDeg), draws.Average(x => x.RawPx), draws.Average(x => x.FiltDeg), draws.Average(x => x.FiltPx));
        (double worstDeg, double worstPx) = (draws.Max(x => x.FiltDeg), draws.Max(x => x.FiltPx));
        double rollAtRest = window.Count == 0 ? double.NaN : window.Average(f => f.Filtered[5]);
        double yawAtRest = window.Count == 0 ? double.NaN : window.Average(f => f.Filtered[3]);
        double pitchAtRest = window.Count == 0 ? double.NaN : window.Average(f => f.Filtered[4]);

        // (3) The photo moving along its path.
        var motions = Enumerable.Range(0, 300).Select(i => PhotoMotion.At(i, 30, 0, clip.Width, clip.Height)).ToArray();
        var moving = new List<Mat>();
        foreach (PhotoMotion m in motions)
        {
            var frame = new Mat();
            clip.Render(m, frame);
            moving.Add(frame);
        }

        List<TrackedFrame> path = PushedClip.Track(moving, options, Path.Combine(o.Out, "stability-moving.jsonl"));
        moving.ForEach(m => m.Dispose());
        List<TrackedFrame> seen = [.. path.Where(f => f.Valid && f.Index < motions.Length)];
        double rollRaw = Mae(seen, f => f.Raw[5] - rollAtRest - motions[f.Index].Roll);
        double rollFiltered = Mae(seen, f => f.Filtered[5] - rollAtRest - motions[f.Index].Roll);
        double yawWander = Mae(seen, f => f.Filtered[3] - yawAtRest), pitchWander = Mae(seen, f => f.Filtered[4] - pitchAtRest);
        // The model's head centre is not the teacher's face-box centre (it sits higher, in the head):
        // measure that offset at rest, then carry it along with the photo (scaled, rolled), so the
        // centre error is how well the tracker follows the face, not where it puts the centre.
        double[] rest = clip.Truth(still, "").Center!;
        (double ox, double oy) = window.Count == 0 ? (double.NaN, double.NaN) : (window.Average(f => f.CenterX) - rest[0], window.Average(f => f.CenterY) - rest[1]);
        double centre = Mae(seen, f =>
        {
            PhotoMotion m = motions[f.Index];
            double[] c = clip.Truth(m, "").Center!;
            double a = m.Roll * Math.PI / 180, ex = c[0] + (m.Scale * ((Math.Cos(a) * ox) - (Math.Sin(a) * oy))), ey = c[1] + (m.Scale * ((Math.Sin(a) * ox) + (Math.Cos(a) * oy)));
            return Math.Sqrt(Math.Pow(f.CenterX - ex, 2) + Math.Pow(f.CenterY - ey, 2));
        });
        int lagRaw = Lag(seen, motions, f => f.Raw[5] - rollAtRest), lag = Lag(seen, motions, f => f.Filtered[5] - rollAtRest);

        string Fmt(string format, params object[] args) => string.Format(CultureInfo.InvariantCulture, format, args);
        log.WriteLine();
        log.WriteLine(Fmt("frames dropped    {0} of {1} (the worker was busy; results are matched to frames by order)", 45 + 150 + 300 - identical.Count - noisy.Count - path.Count, 45 + 150 + 300));
        log.WriteLine(Fmt("identical frames  {0}/45 tracked; raw pose change after frame 10: {1:G3} (target 0)", validIdentical, change));
        log.WriteLine(Fmt("noisy still head  sigma {0} grey levels, {1} draws (seeds {2}-{3}) of {4} frames measured: raw {5:F3} deg, {6:F3} px; filtered {7:F3} deg, {8:F3} px, worst draw {9:F3} deg, {10:F3} px (targets 0.1 deg, 0.2 px)",
            o.Sigma, draws.Count, o.Seed, o.Seed + draws.Count - 1, window.Count, rawDeg, rawPx, filtDeg, filtPx, worstDeg, worstPx));
        foreach (var x in draws)
        {
            log.WriteLine(Fmt("  seed {0,-4} raw {1:F3} deg, {2:F3} px; filtered {3:F3} deg, {4:F3} px", x.Seed, x.RawDeg, x.RawPx, x.FiltDeg, x.FiltPx));
        }

        log.WriteLine(Fmt("moving photo      {0}/300 tracked; roll error raw {1:F2} deg, filtered {2:F2} deg (lag behind the path: raw {9}, filtered {3} frames); yaw/pitch wander {4:F2}/{5:F2} deg (truth: none); centre error {6:F1} px (head centre at rest {7:F0}, {8:F0} px from the face box's)", seen.Count, rollRaw, rollFiltered, lag, yawWander, pitchWander, centre, ox, oy, lagRaw));

        string json = Path.Combine(o.Out, "stability.json");
        var report = new
        {
            machine = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}",
            model = Path.GetFileName(model),
            photo = clip.Photo,
            filter = new { min_cutoff = options.MinCutoff, beta = options.Beta, derivative_cutoff = options.DerivativeCutoff, hold_deg = options.RotationHoldDegrees, hold_cm = options.PositionHoldCm },
            crop_deadband = options.CropDeadband,
            identical = new { frames = 45, tracked = validIdentical, raw_change = change },
            noisy = new
            {
                sigma = o.Sigma, frames = window.Count, raw_deg = rawDeg, raw_px = rawPx, filtered_deg = filtDeg, filtered_px = filtPx,
                worst_filtered_deg = worstDeg, worst_filtered_px = worstPx,
                draws = draws.Select(x => new { seed = x.Seed, frames = x.Frames, raw_deg = x.RawDeg, raw_px = x.RawPx, filtered_deg = x.FiltDeg, filtered_px = x.FiltPx }).ToArray(),
            },
            moving = new { frames = 300, tracked = seen.Count, roll_mae_raw = rollRaw, roll_mae_filtered = rollFiltered, lag_frames_raw = lagRaw, lag_frames = lag, yaw_wander = yawWander, pitch_wander = pitchWander, centre_px = centre, centre_offset_at_rest = new[] { ox, oy } },
        };
        File.WriteAllText(json + ".tmp", JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        File.Move(json + ".tmp", json, overwrite: true);
        log.WriteLine($"Wrote {Path.GetFullPath(json)}");
        return 0;
    }

    private static Mat Noisy(Mat clean, Random random, double sigma)
    {
        byte[] pixels = new byte[clean.Rows * clean.Cols * 3];
        Marshal.Copy(clean.Data, pixels, 0, pixels.Length);
        for (int i = 0; i < pixels.Length; i++)
        {
            double g = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            pixels[i] = (byte)Math.Clamp(Math.Round(pixels[i] + (sigma * g)), 0, 255);
        }

        var noisy = new Mat(clean.Rows, clean.Cols, MatType.CV_8UC3);
        Marshal.Copy(pixels, 0, noisy.Data, pixels.Length);
        return noisy;
    }

    private static double Sd(IEnumerable<double> values)
    {
        double[] v = [.. values];
        double mean = v.Average();
        return Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Length);
    }

    private static double Mae(List<TrackedFrame> frames, Func<TrackedFrame, double> error) => frames.Count == 0 ? double.NaN : frames.Average(f => Math.Abs(error(f)));

    /// <summary>How many frames a roll series trails the path: the shift (0-15 frames) at which it
    /// is closest to the path's roll (mean absolute difference). Raw and filtered measured alike,
    /// so their difference is the filter's own delay.</summary>
    private static int Lag(List<TrackedFrame> frames, PhotoMotion[] motions, Func<TrackedFrame, double> roll) =>
        frames.Count < 30 ? -1 : Enumerable.Range(0, 16).MinBy(shift =>
            frames.Where(f => f.Index - shift >= 0).Average(f => Math.Abs(roll(f) - motions[f.Index - shift].Roll)));
}
