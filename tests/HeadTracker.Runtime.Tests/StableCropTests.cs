using HeadTracking.Runtime;
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading;
using HeadTracking.Runtime.Pipeline;
using HeadTracking.Tests;
using OpenCvSharp;

namespace HeadTracking.Runtime.Tests;

/// <summary>
/// The two-stage crop moves only when the head really moved (<see cref="CropTracker"/>), so a still
/// head gives a still pose: checked on the tracker itself, with the shipped model, on a real photo.
/// </summary>
public sealed class StableCropTests : IDisposable
{
    private readonly string _dir = Repo.NewTempDir("stable-crop");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Drift_inside_the_dead_band_leaves_the_crop_where_it_is()
    {
        var crop = new CropTracker(deadband: 0.04, resize: 0.08);
        Assert.False(crop.Follow(300, 200, 100)); // nothing placed yet
        crop.Place(300, 200, 100);

        Assert.False(crop.Follow(303.9f, 196.1f, 107)); // 3.9 px of a 4 px band, 7% of an 8% band
        Assert.Equal((300f, 200f, 100f), (crop.X, crop.Y, crop.Side));
        Assert.False(crop.Follow(float.NaN, 200, 100)); // a NaN centre is no observation
        Assert.Equal(0, crop.Moves);

        Assert.True(crop.Follow(304.5f, 199, float.NaN)); // past the band in x: the crop takes the head's centre
        Assert.Equal((304.5f, 199f, 100f), (crop.X, crop.Y, crop.Side));
        Assert.True(crop.Follow(304, 199, 91)); // the side alone changed by 9%
        Assert.Equal((304f, 199f, 91f), (crop.X, crop.Y, crop.Side));
        Assert.Equal(2, crop.Moves);

        crop.Lose();
        Assert.False(crop.Active);
        Assert.False(crop.Follow(304, 199, 91));
        crop.Place(10, 20, 30);
        Assert.Equal(0, crop.Moves);

        var always = new CropTracker(0, 0);
        always.Place(300, 200, 100);
        Assert.True(always.Follow(300.01f, 200, 100));
    }

    [Fact]
    public void A_dead_band_out_of_range_is_refused_naming_the_option()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CropTracker(0.5, 0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CropTracker(0.1, -0.1));
        var e = Assert.Throws<ArgumentException>(() => new HeadTracker(Options(0.7)));
        Assert.Contains("CropDeadband", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Byte_identical_frames_of_a_real_face_give_identical_results_once_the_crop_has_settled()
    {
        // Three seconds: the default filter (One Euro from 0.2 Hz) takes about that long to come to
        // rest on the settled raw pose (in 1.5 s its last steps were still near 1e-3).
        using Mat frame = Scene();
        var frames = Enumerable.Repeat(frame, 90).ToArray();

        List<Record> steady = Track(frames, Options(0.04));
        Assert.True(steady.Count >= frames.Length - 5, $"{steady.Count} of {frames.Length} frames tracked");
        Assert.All(steady, r => Assert.True(r.Valid, $"frame {r.Frame}: no face"));
        List<Record> settled = steady.Skip(10).ToList();
        foreach (Record r in settled)
        {
            // Exactly the same numbers: the model saw exactly the same crop.
            Assert.Equal(settled[0].Raw, r.Raw);
            Assert.Equal(settled[0].Center, r.Center);
        }

        // The filtered pose converges on the raw one: its last steps are nothing.
        double[] last = settled[^1].Filtered, before = settled[^2].Filtered;
        Assert.True(last.Zip(before).Max(p => Math.Abs(p.First - p.Second)) < 1e-3, $"filtered pose still moving: {string.Join(", ", last.Zip(before).Select(p => p.First - p.Second))}");

        // The same frames with a crop that follows every frame (no dead band): the model's own
        // noise moves the crop, and the result shakes. This is what the dead band is for.
        List<Record> following = Track(frames, Options(0));
        double shake = following.Skip(10).Select(r => r.Raw[3]).ToArray() is var yaw && yaw.Length > 1 ? yaw.Max() - yaw.Min() : 0;
        Assert.True(shake > 0, "without a dead band the yaw did not move at all on identical frames");
    }

    /// <summary>
    /// Camera-like sensor noise (Gaussian, sigma 2 grey levels, a fixed seed, a new draw per frame)
    /// on a still real face, through the tracker's default options: what a game reads meets the
    /// issue's targets, 0.1 deg and 0.2 px, and is at most half the raw spread.
    /// </summary>
    [Fact]
    public void A_still_real_face_under_camera_noise_barely_moves_the_filtered_pose()
    {
        using Mat clean = Scene();
        var random = new Random(15);
        var frames = new Mat[150];
        for (int i = 0; i < frames.Length; i++)
        {
            frames[i] = Noisy(clean, random, sigma: 2);
        }

        try
        {
            // After the filter's first two seconds, the spread of what a game reads. The crop holds
            // still, so what is left is the model's own response to the noise, smoothed. With
            // default model version 4 and the default options (One Euro from 0.2 Hz, beta 0.5, hold
            // 0.6 deg and 0.1 cm, crop dead band 0.15) it reads 0.000 deg and 0.053 px (raw 0.223
            // deg, 0.408 px). A crop feeding noise back (no dead band) gave 1.7 deg and 1.2 px
            // filtered. At sigma 4 on this photo both dead bands, 0.15 and the earlier 0.04, stay
            // within the targets (0.059 and 0.062 deg, 0.170 and 0.172 px); on the bench's photo the
            // narrow one does not (README, Benchmarks).
            (Jitter j, Jitter raw) = StillJitter(frames, clean.Width, new HeadTrackerOptions { ModelPath = "m.onnx" }.CropDeadband);
            Assert.True(j.Degrees <= 0.1 && j.Pixels <= 0.2, $"filtered jitter {j} (raw {raw})");
            Assert.True(j.Degrees <= raw.Degrees / 2 && j.Pixels <= raw.Pixels / 2, $"the filter barely smooths: filtered {j}, raw {raw}");
        }
        finally
        {
            foreach (Mat m in frames)
            {
                m.Dispose();
            }
        }
    }

    private (Jitter Filtered, Jitter Raw) StillJitter(Mat[] frames, int width, double deadband)
    {
        List<Record> records = Track(frames, Options(deadband));
        Assert.True(records.Count >= 135, $"{records.Count} of 150 frames tracked");
        Assert.All(records, r => Assert.True(r.Valid, $"frame {r.Frame}: no face"));
        List<Record> window = records.Skip(60).ToList();
        return (Measure(window, width), Measure(window.Select(r => r with { Filtered = r.Raw }).ToList(), width));
    }

    /// <summary>How much the filtered pose spreads on a still head: the largest standard deviation
    /// of yaw, pitch and roll (degrees), and of the head's centre projected back into the frame
    /// (pixels).</summary>
    internal readonly record struct Jitter(double Degrees, double Pixels)
    {
        public override string ToString() => $"{Degrees:F3} deg, {Pixels:F3} px";
    }

    internal static Jitter Measure(IReadOnlyList<Record> records, int width, double fovDegrees = 60)
    {
        double f = width / 2.0 / Math.Tan(fovDegrees * Math.PI / 360);
        double degrees = new[] { 3, 4, 5 }.Max(k => Sd(records.Select(r => r.Filtered[k])));
        double pixels = Math.Max(Sd(records.Select(r => f * r.Filtered[0] / r.Filtered[2])), Sd(records.Select(r => f * r.Filtered[1] / r.Filtered[2])));
        return new Jitter(degrees, pixels);
    }

    private static double Sd(IEnumerable<double> values)
    {
        double[] v = values.ToArray();
        double mean = v.Average();
        return Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Length);
    }

    private HeadTrackerOptions Options(double deadband) => new()
    {
        ModelPath = Path.Combine(Repo.Root, "models", "headtracker-default.onnx"),
        DetectorPath = Repo.BlazeFaceFront,
        PushedFrames = true,
        CropDeadband = deadband,
        RecordPath = Path.Combine(_dir, $"record-{Guid.NewGuid():N}.jsonl"),
    };

    /// <summary>A real photo of one person framed as a webcam at a desk frames its user: 640x480,
    /// the face (BlazeFace's box) a third of the frame's width (about 60 cm from a 60 degree camera).</summary>
    internal static Mat Scene()
    {
        using Mat photo = Cv2.ImRead(Repo.Fetched("faces/sample2.jpg"));
        var faces = new Detection.FaceDetections();
        using (var detector = new Detection.BlazeFaceDetector(Repo.BlazeFaceFront))
        {
            detector.Detect(photo, faces);
        }

        Assert.Equal(1, faces.Count);
        float[] b = faces.Boxes;
        double faceWidth = b[2] - b[0], cx = (b[0] + b[2]) / 2, cy = (b[1] + b[3]) / 2;
        int width = (int)(3 * faceWidth), height = width * 3 / 4;
        Assert.True(width <= photo.Width && height <= photo.Height, "the face is too large to frame");
        var region = new Rect(Math.Clamp((int)(cx - (width / 2)), 0, photo.Width - width), Math.Clamp((int)(cy - (height * 0.45)), 0, photo.Height - height), width, height);
        using Mat part = photo[region];
        return part.Resize(new Size(640, 480), 0, 0, InterpolationFlags.Area);
    }

    internal static Mat Noisy(Mat clean, Random random, double sigma)
    {
        var noisy = new Mat(clean.Rows, clean.Cols, MatType.CV_8UC3);
        byte[] pixels = new byte[clean.Rows * clean.Cols * 3];
        Marshal.Copy(clean.Data, pixels, 0, pixels.Length);
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = Add(pixels[i]);
        }

        Marshal.Copy(pixels, 0, noisy.Data, pixels.Length);
        return noisy;

        byte Add(byte v)
        {
            // Box-Muller: one standard normal draw from two uniform ones.
            double g = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            return (byte)Math.Clamp(Math.Round(v + (sigma * g)), 0, 255);
        }
    }

    /// <summary>Pushes the frames at 30 per second, as a camera would deliver them, and returns what
    /// the tracker recorded for each one it tracked.</summary>
    internal static List<Record> Track(IReadOnlyList<Mat> frames, HeadTrackerOptions options)
    {
        using (var tracker = new HeadTracker(options))
        {
            tracker.Start();
            using var rgba = new Mat();
            byte[] bytes = new byte[frames[0].Width * frames[0].Height * 4];
            var period = TimeSpan.FromSeconds(1.0 / 30);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; i < frames.Count; i++)
            {
                Cv2.CvtColor(frames[i], rgba, ColorConversionCodes.BGR2RGBA);
                Marshal.Copy(rgba.Data, bytes, 0, bytes.Length);
                tracker.PushFrame(bytes, rgba.Width, rgba.Height);

                TimeSpan due = period * (i + 1);
                if (due > clock.Elapsed)
                {
                    Thread.Sleep(due - clock.Elapsed);
                }
            }

            Thread.Sleep(200); // let the last frame through
        }

        return File.ReadLines(options.RecordPath!).Select(Record.Parse).ToList();
    }

    internal sealed record Record(long Frame, bool Valid, (double, double) Center, double[] Raw, double[] Filtered)
    {
        public static Record Parse(string line)
        {
            using var doc = JsonDocument.Parse(line);
            JsonElement root = doc.RootElement;
            JsonElement c = root.GetProperty("center");
            return new Record(root.GetProperty("frame").GetInt64(), root.GetProperty("valid").GetBoolean(),
                (c[0].GetDouble(), c[1].GetDouble()), Pose(root.GetProperty("raw")), Pose(root.GetProperty("filtered")));
        }

        private static double[] Pose(JsonElement p) =>
            [p.GetProperty("x").GetDouble(), p.GetProperty("y").GetDouble(), p.GetProperty("z").GetDouble(),
             p.GetProperty("yaw").GetDouble(), p.GetProperty("pitch").GetDouble(), p.GetProperty("roll").GetDouble()];
    }
}
