using System.IO;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using HeadTracking.Runtime;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Detection;
using HeadTracking.Runtime.Inference;
using HeadTracking.Runtime.Pose;
using HeadTracking.Runtime.Preprocessing;
using HeadTracking.Runtime.Smoothing;
using OpenCvSharp;

namespace HeadTracking.Bench;

/// <summary>
/// BenchmarkDotNet micro-benchmarks of the runtime's per-frame functions, run in process
/// (`headtracker-bench micro`, any BenchmarkDotNet arguments after it, e.g. --filter '*Letterbox*').
/// </summary>
internal static class Micro
{
    public static int Run(string[] args)
    {
        IConfig config = DefaultConfig.Instance
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
            .WithArtifactsPath(Path.Combine("out", "bench", "micro"))
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        BenchmarkSwitcher.FromTypes([typeof(PreprocessBenchmarks), typeof(PostprocessBenchmarks)]).Run(args, config);
        return 0;
    }
}

/// <summary>A 640x480 camera frame into the default model's 128x128 input.</summary>
[MemoryDiagnoser]
public class PreprocessBenchmarks
{
    private Mat _frame = new();
    private Letterbox _letterbox = null!;
    private readonly float[] _input = new float[128 * 128 * 3];

    [GlobalSetup]
    public void Setup()
    {
        _frame = new Mat(480, 640, MatType.CV_8UC3);
        Cv2.Randu(_frame, Scalar.All(0), Scalar.All(255));
        _letterbox = new Letterbox(128, 128, 1f / 127.5f, [1f, 1f, 1f], [1f, 1f, 1f], planar: true);
    }

    [Benchmark(Description = "letterbox 640x480 -> 128x128 NCHW")]
    public void Letterbox() => _letterbox.Run(_frame, _input);

    [Benchmark(Description = "crop 200 px square -> 128x128 NCHW")]
    public void Crop() => _letterbox.RunCrop(_frame, 320, 240, 200, _input);

    [GlobalCleanup]
    public void Cleanup()
    {
        _letterbox.Dispose();
        _frame.Dispose();
    }
}

/// <summary>Everything after inference: decoding the heads, pose from keypoints, One Euro, and
/// copying a result to the game.</summary>
[MemoryDiagnoser]
public class PostprocessBenchmarks
{
    private HeadModel? _model;
    private readonly HeadOutputs _outputs = new();
    private readonly OneEuroFilter _filter = new(1.0, 0.05, 1.0);
    private readonly TrackingResult _from = new(), _to = new();
    private readonly KeypointPose _pose = Runtime.Pose.KeypointPose.For(Conventions.KeypointNames)!;
    private readonly float[] _keypoints = [285, 250, 323, 248, 304, 280, 304, 300, 250, 255, 358, 252];
    private readonly double[] _rotation = new double[9];
    private double _t;

    [GlobalSetup]
    public void Setup()
    {
        string? model = ExternalData.FindShipped(Path.Combine("models", "headtracker-default.onnx"));
        if (model != null)
        {
            _model = new HeadModel(model);
            using var frame = new Mat(480, 640, MatType.CV_8UC3, Scalar.All(90));
            _model.Run(frame, _outputs);
        }

        _from.Keypoints = new float[12];
        _from.Mask = new byte[64 * 64];
    }

    [Benchmark(Description = "decode every head (default model)")]
    public void Decode() => _model?.DecodeOutputs(_outputs);

    [Benchmark(Description = "keypoint pose (LM from the last solution)")]
    public bool PoseFromKeypoints() => _pose.Solve(_keypoints, 640, 480, 60, _rotation, out _);

    [Benchmark(Description = "One Euro, one axis")]
    public double OneEuro() => _filter.Filter(System.Math.Sin(_t += 0.01), 1.0 / 30);

    [Benchmark(Description = "copy a result (64x64 mask)")]
    public void CopyResult() => _to.CopyFrom(_from);

    [GlobalCleanup]
    public void Cleanup() => _model?.Dispose();
}
