using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using HeadTracker.Demo.Rendering;
using HeadTracker.Runtime.Capture;
using HeadTracker.Runtime.Detection;
using OpenCvSharp;

namespace HeadTracker.Demo;

/// <summary>Runs the pipeline over a source and renders every frame offscreen to PNG files.</summary>
internal static class HeadlessDemo
{
    private const int DefaultCameraFrames = 300;

    public static int Run(DemoOptions options, TextWriter log)
    {
        string model = options.Model ?? ExternalData.Find(Path.Combine("blazeface", "face_detection_front_128x128_barracuda.onnx"));
        using IFrameSource source = OpenSource(options, log);

        if (!options.Headless)
        {
            log.WriteLine(string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DISPLAY"))
                ? "No display: rendering headless (EGL) to files."
                : "A window is not implemented yet: rendering headless (EGL) to files.");
        }

        int limit = options.Frames ?? (source is CameraSource ? DefaultCameraFrames : int.MaxValue);
        Directory.CreateDirectory(options.Out);
        foreach (string old in Directory.GetFiles(options.Out, "frame_*.png"))
        {
            File.Delete(old);
        }

        using var detector = new BlazeFaceDetector(model);
        var faces = new FaceDetections();
        using EglContext egl = EglContext.CreateHeadless(16, 16);
        using var renderer = new OverlayRenderer(egl.Gl);
        using var target = new OffscreenTarget(egl.Gl);
        using var frame = new Mat();
        using var shown = new Mat();
        using var written = new Mat();

        log.WriteLine($"Source: {source.Description}");
        log.WriteLine($"Model:  {model}");
        log.WriteLine($"Render: {egl.Gl.GetStringS(Silk.NET.OpenGL.StringName.Renderer)}, headless");

        var stages = new StageTimes("capture", "preprocess", "inference", "decode", "render", "write");
        var facesPerFrame = new List<int>();
        double tick = 1000.0 / Stopwatch.Frequency;
        while (facesPerFrame.Count < limit)
        {
            long t0 = Stopwatch.GetTimestamp();
            if (!source.Read(frame))
            {
                break;
            }

            long t1 = Stopwatch.GetTimestamp();
            detector.Detect(frame, faces);
            long t2 = Stopwatch.GetTimestamp();

            int width = Math.Min(options.Width, frame.Width);
            int height = Math.Max(1, (int)Math.Round(frame.Height * (double)width / frame.Width));
            target.Bind(width, height);
            renderer.Draw(frame, faces, width, height);
            byte[] rgba = target.ReadRgba();
            long t3 = Stopwatch.GetTimestamp();

            string path = Path.Combine(options.Out, $"frame_{facesPerFrame.Count:D4}.png");
            WritePng(rgba, width, height, shown, written, path);
            long t4 = Stopwatch.GetTimestamp();

            stages.Add((t1 - t0) * tick, detector.PreprocessTicks * tick, detector.InferenceTicks * tick,
                detector.DecodeTicks * tick, (t3 - t2) * tick, (t4 - t3) * tick);
            facesPerFrame.Add(faces.Count);
        }

        if (facesPerFrame.Count == 0)
        {
            throw new InvalidDataException($"{source.Description}: no frames could be read");
        }

        log.WriteLine();
        log.WriteLine($"Frames: {facesPerFrame.Count}, faces found per frame: {string.Join(" ", facesPerFrame.Take(20))}{(facesPerFrame.Count > 20 ? " ..." : "")}");
        stages.Print(log);
        log.WriteLine($"Wrote {facesPerFrame.Count} frames to {Path.GetFullPath(options.Out)}{Path.DirectorySeparatorChar}frame_*.png");
        return 0;
    }

    private static IFrameSource OpenSource(DemoOptions options, TextWriter log)
    {
        if (options.Video != null)
        {
            return new VideoFileSource(options.Video);
        }

        if (options.Images != null)
        {
            return new ImageFolderSource(options.Images);
        }

        if (options.Camera is int index)
        {
            return new CameraSource(index);
        }

        if (CameraSource.IsPresent(0))
        {
            return new CameraSource(0);
        }

        string samples = Path.GetDirectoryName(ExternalData.Find(Path.Combine("faces", "sample1.jpg")))!;
        log.WriteLine($"No camera found: showing the bundled sample photos ({samples}).");
        return new ImageFolderSource(samples);
    }

    /// <summary>RGBA rows bottom-up (as OpenGL reads them) to a BGR PNG.</summary>
    private static unsafe void WritePng(byte[] rgba, int width, int height, Mat flipped, Mat bgr, string path)
    {
        fixed (byte* p = rgba)
        {
            using Mat view = Mat.FromPixelData(height, width, MatType.CV_8UC4, (IntPtr)p);
            Cv2.Flip(view, flipped, FlipMode.X);
        }

        Cv2.CvtColor(flipped, bgr, ColorConversionCodes.RGBA2BGR);
        if (!Cv2.ImWrite(path, bgr))
        {
            throw new IOException($"cannot write {path}");
        }
    }
}

/// <summary>Per-stage latencies in milliseconds, summarised as mean, p50, p95 and max.</summary>
internal sealed class StageTimes(params string[] names)
{
    private readonly List<double>[] _samples = names.Select(_ => new List<double>()).ToArray();

    public void Add(params double[] milliseconds)
    {
        for (int i = 0; i < _samples.Length; i++)
        {
            _samples[i].Add(milliseconds[i]);
        }
    }

    public void Print(TextWriter log)
    {
        log.WriteLine("Stage        mean ms    p50 ms    p95 ms    max ms");
        for (int i = 0; i < names.Length; i++)
        {
            double[] s = [.. _samples[i].Order()];
            log.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0,-10} {1,9:F2} {2,9:F2} {3,9:F2} {4,9:F2}",
                names[i], s.Average(), Percentile(s, 0.5), Percentile(s, 0.95), s[^1]));
        }
    }

    private static double Percentile(double[] sorted, double q) => sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(q * sorted.Length))];
}
