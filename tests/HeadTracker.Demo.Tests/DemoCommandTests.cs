using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using HeadTracking.Demo.Rendering;
using HeadTracking.Tests;
using OpenCvSharp;

namespace HeadTracking.Demo.Tests;

/// <summary>The demo as a user runs it: real process, real files, the shipped default model.</summary>
public sealed class DemoCommandTests : IDisposable
{
    private readonly string _dir = Repo.NewTempDir("demo");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Processes.Result Demo(params string[] args) =>
        Processes.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "headtracker-demo.dll"), .. args], timeoutSeconds: 180);

    /// <summary>A 640x480 clip around one real face (the widest BlazeFace finds in a sample photo),
    /// scaled to about 180 pixels wide, drifting a few pixels per frame.</summary>
    private string Clip(int frames)
    {
        string path = Path.Combine(_dir, "clip.avi");
        using Mat photo = Cv2.ImRead(Repo.Fetched(Path.Combine("faces", "sample1.jpg")));
        using var detector = new Runtime.Detection.BlazeFaceDetector(Repo.BlazeFaceFront);
        var faces = new Runtime.Detection.FaceDetections();
        detector.Detect(photo, faces);
        int best = Enumerable.Range(0, faces.Count).MaxBy(f => faces.Boxes[(f * 4) + 2] - faces.Boxes[f * 4]);
        float[] b = faces.Boxes[(best * 4)..((best * 4) + 4)];
        double scale = 180.0 / (b[2] - b[0]);
        using Mat resized = photo.Resize(new Size(0, 0), scale, scale, InterpolationFlags.Area);
        using Mat padded = new();
        Cv2.CopyMakeBorder(resized, padded, 400, 400, 400, 400, BorderTypes.Constant, Scalar.Black);
        int cx = (int)(((b[0] + b[2]) / 2 * scale) + 400), cy = (int)(((b[1] + b[3]) / 2 * scale) + 400);
        using var writer = new VideoWriter(path, FourCC.MJPG, 30, new Size(640, 480));
        for (int i = 0; i < frames; i++)
        {
            using Mat frame = new Mat(padded, new Rect(cx - 320 + (i * 4), cy - 260 + (i * 2), 640, 480)).Clone();
            writer.Write(frame);
        }

        return path;
    }

    private static int Distance(Vec3b bgr, float[] rgba) =>
        Math.Max(Math.Abs(bgr.Item2 - (int)Math.Round(rgba[0] * 255)), Math.Max(Math.Abs(bgr.Item1 - (int)Math.Round(rgba[1] * 255)), Math.Abs(bgr.Item0 - (int)Math.Round(rgba[2] * 255))));

    [Fact]
    public void Headless_run_over_a_real_face_draws_the_tracked_box_and_writes_frames_results_and_timings()
    {
        string clip = Clip(12), results = Path.Combine(_dir, "results.jsonl"), video = Path.Combine(_dir, "out.avi");
        var r = Demo("--video", clip, "--headless", "--frames", "10", "--out", _dir, "--width", "480", "--results", results, "--video-out", video);
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains("Frames: 10, head found in", r.StdOut, StringComparison.Ordinal);
        Assert.Contains("inference", r.StdOut, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir, "frame_0009.png")));
        Assert.False(File.Exists(Path.Combine(_dir, "frame_0010.png")));
        using (var written = new VideoCapture(video))
        {
            Assert.Equal(10, written.FrameCount);
        }

        // Frame by frame: the recorder has a line per drawn frame, in order.
        string[] lines = File.ReadAllLines(results);
        Assert.True(lines.Length >= 10, $"{lines.Length} result lines");
        int checkedFrames = 0;
        for (int i = 0; i < 10; i++)
        {
            using var json = JsonDocument.Parse(lines[i]);
            Assert.Equal(i + 1, json.RootElement.GetProperty("frame").GetInt64());
            if (!json.RootElement.GetProperty("valid").GetBoolean())
            {
                continue;
            }

            // The box the tracker reported is drawn where it said, scaled from 640 to 480 wide.
            float[] box = [.. json.RootElement.GetProperty("box").EnumerateArray().Select(e => e.GetSingle() * 0.75f)];
            using Mat png = Cv2.ImRead(Path.Combine(_dir, $"frame_{i:D4}.png"));
            Assert.Equal(480, png.Width);
            // The top edge is a bar 2 frame pixels (1.5 picture pixels) tall just above box[1].
            int x = (int)Math.Round((box[0] + box[2]) / 2), y = (int)Math.Round(box[1] - 0.75f);
            if (y >= 80 && y + 1 < png.Height)
            {
                int nearest = Enumerable.Range(y - 1, 3).Min(row => Distance(png.At<Vec3b>(row, x), SceneRenderer.BoxColor));
                Assert.True(nearest <= 12, $"frame {i}: no box colour around ({x}, {y}), the top edge of the reported box");
                checkedFrames++;
            }
        }

        Assert.True(checkedFrames >= 5, $"only {checkedFrames} frames had a valid head with a box edge below the HUD");
    }

    [Fact]
    public void A_window_under_xvfb_shows_what_the_headless_renderer_draws()
    {
        Assert.True(File.Exists("/usr/bin/xvfb-run"), "xvfb-run is missing: ./build.sh setup installs xvfb and xauth");
        string clip = Clip(6), shot = Path.Combine(_dir, "window.png"), frames = Path.Combine(_dir, "headless");
        string demo = Path.Combine(AppContext.BaseDirectory, "headtracker-demo.dll");
        var window = Processes.Run("xvfb-run", ["-a", "-s", "-screen 0 800x600x24", "dotnet", demo, "--video", clip, "--frames", "3", "--width", "320", "--filter", "none", "--screenshot", shot], timeoutSeconds: 180);
        Assert.True(window.ExitCode == 0, window.All);
        Assert.Contains("Screenshot:", window.StdOut, StringComparison.Ordinal);
        var headless = Demo("--video", clip, "--headless", "--frames", "3", "--width", "320", "--filter", "none", "--out", frames);
        Assert.True(headless.ExitCode == 0, headless.All);

        using Mat a = Cv2.ImRead(shot), b = Cv2.ImRead(Path.Combine(frames, "frame_0002.png"));
        Assert.Equal(b.Size(), a.Size());
        // Below the HUD (whose numbers differ from run to run) the pictures must agree; with no
        // smoothing, which depends on the time between frames, every mark is deterministic.
        var below = new Rect(0, 80, a.Width, a.Height - 80);
        using Mat diff = new();
        Cv2.Absdiff(a[below], b[below], diff);
        Scalar mean = Cv2.Mean(diff);
        Cv2.MinMaxLoc(diff.Reshape(1), out _, out double max);
        Assert.True(mean.Val0 + mean.Val1 + mean.Val2 < 3, $"window and headless differ by {mean} on average");
        Assert.True(max < 64, $"window and headless differ by up to {max} somewhere");
    }

    [Theory]
    [InlineData("missing-model")]
    [InlineData("corrupt-model")]
    [InlineData("unreadable-video")]
    [InlineData("missing-video")]
    [InlineData("absent-camera")]
    [InlineData("unknown-option")]
    [InlineData("bad-number")]
    [InlineData("bad-udp")]
    public void Bad_input_gets_one_line_naming_it_and_a_nonzero_exit(string kind)
    {
        string corrupt = Path.Combine(_dir, "corrupt.onnx");
        File.WriteAllText(corrupt, "not a model");
        string notVideo = Path.Combine(_dir, "clip.avi");
        File.WriteAllText(notVideo, "not a video");
        string missing = Path.Combine(_dir, "nothing-here.onnx");
        string images = Path.Combine(Repo.External, "faces");

        (string[] args, string expected) = kind switch
        {
            "missing-model" => (new[] { "--images", images, "--model", missing, "--headless", "--out", _dir }, missing),
            "corrupt-model" => (["--images", images, "--model", corrupt, "--headless", "--out", _dir], corrupt),
            "unreadable-video" => (["--video", notVideo, "--headless", "--out", _dir], notVideo),
            "missing-video" => (["--video", Path.Combine(_dir, "nope.mp4"), "--headless", "--out", _dir], "nope.mp4"),
            "absent-camera" => (["--camera", "7", "--headless", "--out", _dir], "camera 7"),
            "unknown-option" => (["--colour", "red"], "'--colour'"),
            "bad-number" => (["--frames", "many"], "--frames"),
            "bad-udp" => (["--udp", "localhost"], "--udp needs HOST:PORT"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        var r = Demo(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(expected, r.StdErr, StringComparison.Ordinal);
        Assert.StartsWith("headtracker-demo: ", r.StdErr, StringComparison.Ordinal);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", r.All, StringComparison.Ordinal);
    }
}
