using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using HeadTracking.Demo.Rendering;
using HeadTracking.Runtime;
using OpenCvSharp;

namespace HeadTracking.Demo;

/// <summary>Renders through EGL (no display) into PNG frames and optionally a video, frame by frame
/// for files, and prints a timing summary.</summary>
internal static class HeadlessRunner
{
    private const int DefaultCameraFrames = 300;

    public static int Run(DemoOptions options, TextWriter log)
    {
        using var app = new DemoApp(options, lockstep: true, log);
        using EglContext egl = EglContext.CreateHeadless(16, 16);
        app.Attach(egl.Gl, log);
        using var target = new OffscreenTarget(egl.Gl);
        using var flipped = new Mat();
        using var bgr = new Mat();
        int limit = options.Frames ?? (!app.Stepping ? DefaultCameraFrames : int.MaxValue);
        Directory.CreateDirectory(options.Out);
        foreach (string old in Directory.GetFiles(options.Out, "frame_*.png"))
        {
            File.Delete(old);
        }

        VideoWriter? video = null;
        var render = new List<double>();
        var drawn = new List<double>();
        var write = new List<double>();
        int frames = 0, valid = 0;
        try
        {
            while (frames < limit && app.Next(TimeSpan.FromSeconds(30)))
            {
                (int width, int height) = app.PictureSize;
                long t0 = Stopwatch.GetTimestamp();
                target.Bind(width, height);
                app.Render(width, height);
                byte[] rgba = target.ReadRgba();
                long t1 = Stopwatch.GetTimestamp();
                ToBgr(rgba, width, height, flipped, bgr);
                string path = Path.Combine(options.Out, $"frame_{frames:D4}.png");
                if (!Cv2.ImWrite(path, bgr))
                {
                    throw new IOException($"cannot write {path}");
                }

                if (options.VideoOut != null)
                {
                    video ??= OpenVideo(options.VideoOut, width, height);
                    video.Write(bgr);
                }

                long t2 = Stopwatch.GetTimestamp();
                render.Add((t1 - t0) * 1000.0 / Stopwatch.Frequency);
                drawn.Add(app.RenderMilliseconds);
                write.Add((t2 - t1) * 1000.0 / Stopwatch.Frequency);
                valid += app.Shown is { Valid: true } ? 1 : 0;
                frames++;
            }
        }
        finally
        {
            video?.Dispose();
            app.Detach(); // before the EGL context goes
        }

        if (frames == 0)
        {
            throw new InvalidDataException($"{app.Source}: no frames could be read");
        }

        StageTimes t = app.Tracker.StageMilliseconds;
        var c = CultureInfo.InvariantCulture;
        log.WriteLine();
        log.WriteLine($"Frames: {frames}, head found in {valid}");
        log.WriteLine("Stage        mean ms    (tracker worker: means over the run; render and write: this loop)");
        if (app.Stepping)
        {
            log.WriteLine("             (frames pass one at a time, so capture includes waiting for render and write)");
        }

        foreach ((string name, double ms) in new[] { ("capture", t.Capture), ("detect", t.Detect), ("preprocess", t.Preprocess), ("inference", t.Inference), ("decode", t.Decode), ("pose", t.Pose) })
        {
            log.WriteLine(string.Format(c, "{0,-10} {1,9:F2}", name, ms));
        }

        log.WriteLine(string.Format(c, "{0,-10} {1,9:F2}    p50 {2:F2}, p95 {3:F2} (draw {4:F2} + read back)", "render", render.Average(), Percentile(render, 0.5), Percentile(render, 0.95), drawn.Average()));
        log.WriteLine(string.Format(c, "{0,-10} {1,9:F2}", "write", write.Average()));
        log.WriteLine($"Wrote {frames} frames to {Path.GetFullPath(options.Out)}{Path.DirectorySeparatorChar}frame_*.png");
        if (options.VideoOut != null)
        {
            log.WriteLine($"Wrote {Path.GetFullPath(options.VideoOut)}");
        }

        return 0;
    }

    /// <summary>RGBA rows bottom-up (as OpenGL reads them) to top-down BGR.</summary>
    public static unsafe void ToBgr(byte[] rgba, int width, int height, Mat flipped, Mat bgr)
    {
        fixed (byte* p = rgba)
        {
            using Mat view = Mat.FromPixelData(height, width, MatType.CV_8UC4, (IntPtr)p);
            Cv2.Flip(view, flipped, FlipMode.X);
        }

        Cv2.CvtColor(flipped, bgr, ColorConversionCodes.RGBA2BGR);
    }

    private static VideoWriter OpenVideo(string path, int width, int height)
    {
        FourCC codec = path.EndsWith(".mp4", StringComparison.OrdinalIgnoreCase) ? FourCC.MP4V : FourCC.MJPG;
        var writer = new VideoWriter(path, codec, 30, new Size(width, height));
        if (!writer.IsOpened())
        {
            writer.Dispose();
            throw new IOException($"cannot write the video {path} (OpenCV has no {codec} encoder for it)");
        }

        return writer;
    }

    private static double Percentile(List<double> values, double q)
    {
        double[] sorted = [.. values.Order()];
        return sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(q * sorted.Length))];
    }
}
