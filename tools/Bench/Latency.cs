using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using HeadTracking.Runtime;
using HeadTracking.Runtime.Detection;
using HeadTracking.Runtime.Inference;
using HeadTracking.Runtime.Models;
using HeadTracking.Runtime.Pipeline;
using HeadTracking.Trainer.Training;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;
using OpenCvSharp.Dnn;

namespace HeadTracking.Bench;

/// <summary>What to measure.</summary>
internal sealed record LatencyOptions
{
    public string? Model { get; init; }

    public string? Video { get; init; }

    public int? Camera { get; init; }

    public int Frames { get; init; } = 500;

    public int Warmup { get; init; } = 50;

    public int Threads { get; init; } = 1;

    public int Width { get; init; } = 640;

    public int Height { get; init; } = 480;

    public bool TwoStage { get; init; }

    public string Out { get; init; } = Path.Combine("out", "bench");

    public bool Sweep { get; init; }
}

/// <summary>Summary of one series of per-frame milliseconds.</summary>
internal sealed record Stats(double Mean, double P50, double P95, double P99, double Max)
{
    public static Stats Of(IReadOnlyList<double> ms)
    {
        double[] s = [.. ms.Order()];
        double At(double q) => s[(int)Math.Min(s.Length - 1, Math.Ceiling(q * s.Length) - 1)];
        return new Stats(s.Average(), At(0.5), At(0.95), At(0.99), s[^1]);
    }
}

/// <summary>One configuration's measurements, as written to bench.json.</summary>
internal sealed record LatencyRun(
    string Model, string Input, int Threads, bool TwoStage, int Frames, int Warmup,
    Dictionary<string, Stats> Pipeline, double FramesPerSecond, double CpuMillisecondsPerFrame, double AllocatedBytesPerFrame,
    Stats Floor, Stats OpenCvDnn, Stats OpenCvDnnForward, Stats BlazeFace, Dictionary<string, double> Ratios);

/// <summary>
/// The runtime's whole pipeline, per frame and per stage, on a fixed video, beside the floor (a
/// bare InferenceSession.Run of the same model on a prepared tensor), OpenCV's dnn module running
/// the same model with its own BlobFromImage, and the BlazeFace detector: all in one run, on the
/// same frames and threads.
/// </summary>
internal static class Latency
{
    private static readonly string[] s_stages = ["capture", "detect", "preprocess", "inference", "decode", "pose", "publish"];

    public static int Run(LatencyOptions o, TextWriter log)
    {
        string model = Program.ModelOrShipped(o.Model);
        string video = o.Video ?? (o.Camera != null ? "" : ExternalData.Find(Path.Combine("samples", "demo", "video.avi")));
        Directory.CreateDirectory(o.Out);
        log.WriteLine($"Machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, " +
            $"ONNX Runtime {OrtEnv.Instance().GetVersionString()}, OpenCV {Cv2.GetVersionString()}");

        var configs = new List<LatencyOptions>();
        if (o.Sweep)
        {
            string[] models = [.. Directory.GetFiles(Path.GetDirectoryName(model)!, "*.onnx").Order(StringComparer.Ordinal)];
            foreach (string m in models)
            {
                foreach ((int w, int h) in new[] { (320, 240), (640, 480), (1280, 720) })
                {
                    foreach (int threads in new[] { 1, 2 })
                    {
                        configs.Add(o with { Model = m, Width = w, Height = h, Threads = threads });
                    }
                }
            }
        }
        else
        {
            configs.Add(o with { Model = model });
        }

        var runs = new List<LatencyRun>();
        foreach (LatencyOptions c in configs)
        {
            LatencyRun run = Measure(c, video, log);
            runs.Add(run);
            Print(run, log);
        }

        string json = Path.Combine(o.Out, "bench.json");
        File.WriteAllText(json + ".tmp", JsonSerializer.Serialize(runs, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
        File.Move(json + ".tmp", json, overwrite: true);
        log.WriteLine($"Wrote {Path.GetFullPath(json)} and {Path.GetFullPath(Path.Combine(o.Out, "latency.png"))}");
        return 0;
    }

    /// <summary>Rounds of pipeline then floor in one measurement.</summary>
    private const int Rounds = 3;

    private static LatencyRun Measure(LatencyOptions o, string sourceVideo, TextWriter log)
    {
        string model = o.Model!;
        int total = o.Warmup + o.Frames;
        log.WriteLine();
        log.WriteLine($"{Path.GetFileName(model)} on {o.Width}x{o.Height} frames of {Path.GetFileName(sourceVideo)}, {o.Threads} thread(s), " +
            $"{(o.TwoStage ? "two-stage (BlazeFace + crop)" : "whole frame")}: {o.Frames} frames after {o.Warmup} of warm-up");
        List<Mat> frames = o.Camera is int camera ? CameraFrames(camera, o.Width, o.Height, Math.Min(total, 300)) : LoadFrames(sourceVideo, o.Width, o.Height, Math.Min(total, 300));
        try
        {
            // The clip the pipeline reads: the same frames, MJPG at the size asked for, so capture is
            // a real decode.
            string clip = Path.Combine(o.Out, $"clip-{o.Width}x{o.Height}.avi");
            using (var writer = new VideoWriter(clip, FourCC.MJPG, 30, new Size(o.Width, o.Height)))
            {
                frames.ForEach(f => writer.Write(f));
            }

            // The pipeline and the floor alternate in rounds, so both are timed in the same minutes of
            // this machine (timed one after the other, their ratio swung by +-0.03 between runs).
            var stages = s_stages.ToDictionary(s => s, _ => new List<double>(o.Frames));
            var floor = new List<double>(o.Frames);
            double seconds = 0, cpuMs = 0, allocatedBytes = 0;
            int rounds = Math.Min(Rounds, o.Frames);
            for (int round = 0; round < rounds; round++)
            {
                int n = (o.Frames / rounds) + (round == rounds - 1 ? o.Frames % rounds : 0);
                (Dictionary<string, List<double>> part, double partFps, double partCpu, double partAllocated) = Pipeline(o with { Frames = n }, model, clip, o.Warmup + n);
                foreach ((string stage, List<double> times) in part)
                {
                    stages[stage].AddRange(times);
                }

                (seconds, cpuMs, allocatedBytes) = (seconds + (n / partFps), cpuMs + (partCpu * n), allocatedBytes + (partAllocated * n));
                floor.AddRange(Floor(model, frames, o.Threads, o.Warmup, o.Warmup + n));
            }

            (double fps, double cpu, double allocated) = (o.Frames / seconds, cpuMs / o.Frames, allocatedBytes / o.Frames);
            (List<double> dnn, List<double> forward) = OpenCvDnn(model, frames, o.Threads, o.Warmup, total);
            List<double> blazeface = BlazeFace(frames, o.Threads, o.Warmup, total);

            var pipelineTotal = Enumerable.Range(0, o.Frames).Select(i => s_stages.Where(s => s != "capture").Sum(s => stages[s][i])).ToList();
            var ours = Enumerable.Range(0, o.Frames).Select(i => stages["preprocess"][i] + stages["inference"][i] + stages["decode"][i]).ToList();
            var overhead = Enumerable.Range(0, o.Frames).Select(i => pipelineTotal[i] - stages["inference"][i]).ToList();
            var summary = stages.ToDictionary(kv => kv.Key, kv => Stats.Of(kv.Value));
            summary["total (no capture)"] = Stats.Of(pipelineTotal);
            summary["overhead"] = Stats.Of(overhead);
            summary["total"] = Stats.Of(Enumerable.Range(0, o.Frames).Select(i => pipelineTotal[i] + stages["capture"][i]).ToList());
            Stats floorStats = Stats.Of(floor), dnnStats = Stats.Of(dnn), oursStats = Stats.Of(ours);
            var ratios = new Dictionary<string, double>
            {
                ["overhead_over_floor_p50"] = summary["overhead"].P50 / floorStats.P50,
                // The pipeline's own inference stage is a bare Run too, timed on the same frames as
                // the overhead (the floor runs on the first frame's input, between them).
                ["overhead_over_inference_p50"] = summary["overhead"].P50 / summary["inference"].P50,
                ["pipeline_over_floor_p50"] = summary["total (no capture)"].P50 / floorStats.P50,
                ["opencv_dnn_over_ours_p50"] = dnnStats.P50 / oursStats.P50,
            };

            Plot(Path.Combine(o.Out, "latency.png"), $"{Path.GetFileName(model)}, {o.Width}x{o.Height}, {o.Threads} thread(s)",
                [("pipeline (no capture)", pipelineTotal, new Scalar(40, 40, 220)), ("floor: bare Run", floor, new Scalar(0, 0, 0)),
                 ("OpenCV dnn", dnn, new Scalar(200, 120, 0)), ("BlazeFace detector", blazeface, new Scalar(0, 160, 0))]);
            return new LatencyRun(Path.GetFileName(model), $"{o.Width}x{o.Height}", o.Threads, o.TwoStage, o.Frames, o.Warmup,
                summary, fps, cpu, allocated, floorStats, dnnStats, Stats.Of(forward), Stats.Of(blazeface), ratios);
        }
        finally
        {
            frames.ForEach(f => f.Dispose());
        }
    }

    /// <summary>The runtime's worker loop, per frame and stage, from its own stage log.</summary>
    private static (Dictionary<string, List<double>> Stages, double Fps, double CpuMs, double AllocatedBytes) Pipeline(LatencyOptions o, string model, string clip, int total)
    {
        var options = new HeadTrackerOptions
        {
            ModelPath = model,
            VideoPath = clip,
            PaceVideo = false,
            LoopVideo = true,
            IntraOpThreads = o.Threads,
            ExecutionProviders = ["cpu"],
            DetectorPath = o.TwoStage ? ExternalData.Find(Path.Combine("blazeface", "face_detection_front_128x128_barracuda.onnx")) : null,
            MinScore = 0.5f,
        };
        var log = new FrameStages[total];
        using var tracker = new HeadTracker(options);
        tracker.LogStages(log);
        tracker.Start();
        var process = Process.GetCurrentProcess();
        while (tracker.StagesLogged < o.Warmup)
        {
            Thread.Sleep(1);
            Fault(tracker);
        }

        process.Refresh();
        TimeSpan cpuAtWarm = process.TotalProcessorTime;
        long wallAtWarm = Stopwatch.GetTimestamp();
        while (tracker.StagesLogged < total)
        {
            Thread.Sleep(1);
            Fault(tracker);
        }

        long wallEnd = Stopwatch.GetTimestamp();
        process.Refresh();
        TimeSpan cpu = process.TotalProcessorTime - cpuAtWarm;
        tracker.Stop();
        double tick = 1000.0 / Stopwatch.Frequency;
        var stages = s_stages.ToDictionary(s => s, _ => new List<double>(o.Frames));
        for (int i = o.Warmup; i < total; i++)
        {
            FrameStages f = log[i];
            stages["capture"].Add(f.Capture * tick);
            stages["detect"].Add(f.Detect * tick);
            stages["preprocess"].Add(f.Preprocess * tick);
            stages["inference"].Add(f.Inference * tick);
            stages["decode"].Add(f.Decode * tick);
            stages["pose"].Add(f.Pose * tick);
            stages["publish"].Add(f.Publish * tick);
        }

        double seconds = (wallEnd - wallAtWarm) / (double)Stopwatch.Frequency;
        double allocated = (log[total - 1].AllocatedBytes - log[o.Warmup - 1].AllocatedBytes) / (double)o.Frames;
        return (stages, o.Frames / seconds, cpu.TotalMilliseconds / o.Frames, allocated);
    }

    private static void Fault(HeadTracker tracker)
    {
        if (tracker.Status == TrackerStatus.Faulted)
        {
            throw new InvalidOperationException($"the pipeline faulted: {tracker.FaultReason}");
        }
    }

    /// <summary>The floor: InferenceSession.Run with bound, preallocated inputs and outputs, the
    /// input prepared once from the first frame; nothing else.</summary>
    private static List<double> Floor(string model, List<Mat> frames, int threads, int warmup, int total)
    {
        using var head = new HeadModel(model, threads, ["cpu"]);
        var outputs = new HeadOutputs();
        head.Run(frames[0], outputs); // fills the bound input tensor once
        var times = new List<double>(total);
        for (int i = 0; i < total; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            head.RunBare();
            times.Add((Stopwatch.GetTimestamp() - t0) * 1000.0 / Stopwatch.Frequency);
        }

        return times.Skip(warmup).ToList();
    }

    /// <summary>OpenCV's dnn module running the same ONNX file with its own preprocessing
    /// (BlobFromImage: resize without letterbox, scale, mean, RB swap) and Forward.</summary>
    private static (List<double> Total, List<double> Forward) OpenCvDnn(string model, List<Mat> frames, int threads, int warmup, int total)
    {
        ModelManifest manifest;
        using (var probe = new HeadModel(model, 1, ["cpu"]))
        {
            manifest = probe.Manifest;
        }

        ManifestInput input = manifest.Input;
        int height = (int)input.Shape[input.Layout == "NCHW" ? 2 : 1], width = (int)input.Shape[input.Layout == "NCHW" ? 3 : 2];
        Cv2.SetNumThreads(threads);
        using Net net = CvDnn.ReadNetFromOnnx(model) ?? throw new InvalidDataException($"{model}: OpenCV dnn cannot read it");
        string[] names = [.. manifest.Outputs.Select(x => x.Name)];
        var outs = names.Select(_ => new Mat()).ToArray();
        var all = new List<double>(total);
        var forward = new List<double>(total);
        // value = (pixel * scale - mean) / std; BlobFromImage does (pixel - mean') * scale', one std for all channels.
        double scale = input.Scale / input.Std[0];
        var mean = new Scalar(input.Mean[0] / input.Scale, input.Mean[1] / input.Scale, input.Mean[2] / input.Scale);
        try
        {
            for (int i = 0; i < total; i++)
            {
                Mat frame = frames[i % frames.Count];
                long t0 = Stopwatch.GetTimestamp();
                using Mat blob = CvDnn.BlobFromImage(frame, scale, new Size(width, height), mean, swapRB: true, crop: false);
                net.SetInput(blob);
                long t1 = Stopwatch.GetTimestamp();
                net.Forward(outs, names);
                long t2 = Stopwatch.GetTimestamp();
                all.Add((t2 - t0) * 1000.0 / Stopwatch.Frequency);
                forward.Add((t2 - t1) * 1000.0 / Stopwatch.Frequency);
            }
        }
        finally
        {
            foreach (Mat m in outs)
            {
                m.Dispose();
            }

            Cv2.SetNumThreads(-1);
        }

        return (all.Skip(warmup).ToList(), forward.Skip(warmup).ToList());
    }

    /// <summary>MediaPipe's BlazeFace detector through our runtime, as a reference face network.</summary>
    private static List<double> BlazeFace(List<Mat> frames, int threads, int warmup, int total)
    {
        using var detector = new BlazeFaceDetector(ExternalData.Find(Path.Combine("blazeface", "face_detection_front_128x128_barracuda.onnx")), threads);
        var faces = new FaceDetections();
        var times = new List<double>(total);
        for (int i = 0; i < total; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            detector.Detect(frames[i % frames.Count], faces);
            times.Add((Stopwatch.GetTimestamp() - t0) * 1000.0 / Stopwatch.Frequency);
        }

        return times.Skip(warmup).ToList();
    }

    /// <summary>Frames recorded from a webcam first, so every series sees the same frames.</summary>
    private static List<Mat> CameraFrames(int index, int width, int height, int count)
    {
        using var camera = new Runtime.Capture.CameraSource(index, width, height);
        var frames = new List<Mat>();
        using var frame = new Mat();
        while (frames.Count < count && camera.Read(frame))
        {
            frames.Add(frame.Width == width && frame.Height == height ? frame.Clone() : frame.Resize(new Size(width, height)));
        }

        return frames.Count > 0 ? frames : throw new IOException($"camera {index} gave no frames");
    }

    private static List<Mat> LoadFrames(string video, int width, int height, int count)
    {
        using var capture = new VideoCapture(video);
        if (!capture.IsOpened())
        {
            throw new InvalidDataException($"{video}: not a video OpenCV can decode");
        }

        var frames = new List<Mat>();
        using var frame = new Mat();
        while (frames.Count < count && capture.Read(frame) && !frame.Empty())
        {
            // Fill the frame as a camera would: scale to cover, crop the middle.
            double scale = Math.Max((double)width / frame.Width, (double)height / frame.Height);
            using Mat scaled = frame.Resize(new Size(Math.Max(width, (int)Math.Ceiling(frame.Width * scale)), Math.Max(height, (int)Math.Ceiling(frame.Height * scale))));
            frames.Add(new Mat(scaled, new Rect((scaled.Width - width) / 2, (scaled.Height - height) / 2, width, height)).Clone());
        }

        if (frames.Count == 0)
        {
            throw new InvalidDataException($"{video}: no frames");
        }

        return frames;
    }

    private static void Print(LatencyRun r, TextWriter log)
    {
        var c = CultureInfo.InvariantCulture;
        log.WriteLine("stage                    mean      p50      p95      p99      max   (ms per frame)");
        foreach ((string name, Stats s) in r.Pipeline)
        {
            log.WriteLine(string.Format(c, "{0,-20} {1,8:F3} {2,8:F3} {3,8:F3} {4,8:F3} {5,8:F3}", name, s.Mean, s.P50, s.P95, s.P99, s.Max));
        }

        foreach ((string name, Stats s) in new[] { ("floor: bare Run", r.Floor), ("OpenCV dnn (blob+fwd)", r.OpenCvDnn), ("OpenCV dnn forward", r.OpenCvDnnForward), ("BlazeFace detector", r.BlazeFace) })
        {
            log.WriteLine(string.Format(c, "{0,-20} {1,8:F3} {2,8:F3} {3,8:F3} {4,8:F3} {5,8:F3}", name, s.Mean, s.P50, s.P95, s.P99, s.Max));
        }

        log.WriteLine(string.Format(c, "pipeline: {0:F0} frames/s, {1:F2} ms CPU per frame (all threads), {2:F1} bytes allocated per frame on the worker", r.FramesPerSecond, r.CpuMillisecondsPerFrame, r.AllocatedBytesPerFrame));
        log.WriteLine(string.Format(c, "ratios (p50): pipeline overhead / floor = {0:F3}; overhead / the pipeline's own inference = {3:F3}; pipeline (no capture) / floor = {1:F2}; OpenCV dnn / ours (preprocess+inference+decode) = {2:F2}",
            r.Ratios["overhead_over_floor_p50"], r.Ratios["pipeline_over_floor_p50"], r.Ratios["opencv_dnn_over_ours_p50"], r.Ratios["overhead_over_inference_p50"]));
    }

    /// <summary>Cumulative distributions of per-frame latency, one line per series.</summary>
    private static void Plot(string path, string title, IReadOnlyList<(string Name, List<double> Ms, Scalar Colour)> series) =>
        LinePlot.Write(path, $"latency CDF: {title}", "ms per frame", "fraction of frames",
            [.. series.Select(s =>
            {
                double[] sorted = [.. s.Ms.Order()];
                return new LinePlot.Series(s.Name, s.Colour, [.. sorted.Select((v, i) => (v, (i + 1.0) / sorted.Length))]);
            })]);
}
