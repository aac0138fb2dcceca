using System;
using System.IO;
using System.Linq;
using System.Threading;
using HeadTracking.Runtime;
using HeadTracking.Tests;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Onnx;
using OpenCvSharp;
using TorchSharp;

namespace HeadTracking.Trainer.Tests;

/// <summary>The tracker on models the trainer builds on purpose to be odd: one that outputs NaN,
/// one without the outputs a pose source needs (the tracker's other tests use the shipped model).</summary>
public sealed class OddModelTrackerTests : IDisposable
{
    private readonly string _dir = Repo.NewTempDir("odd-model");
    private readonly string _frames;

    public OddModelTrackerTests()
    {
        _frames = Path.Combine(_dir, "frames");
        Directory.CreateDirectory(_frames);
        foreach (string name in new[] { "sample2.jpg", "sample3.jpg" })
        {
            using Mat photo = Cv2.ImRead(Repo.Fetched("faces/" + name));
            using Mat frame = photo.Resize(new Size(640, 480));
            Cv2.ImWrite(Path.Combine(_frames, name), frame);
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private HeadTrackerOptions Options(string model) =>
        new() { ModelPath = model, ImageFolder = _frames, LoopVideo = true, MinScore = 0, Filter = FilterKind.None };

    [Fact]
    public void A_model_that_outputs_NaN_leaves_the_tracker_searching_with_finite_poses()
    {
        torch.manual_seed(4);
        using var net = new MultiHeadNet(new ModelConfig { Backbone = "blazeface", Heads = [.. new[] { "center", "box", "pose" }.Select(k => new HeadConfig { Kind = k })] });
        using (torch.no_grad())
        {
            foreach ((string name, torch.Tensor p) in net.named_parameters().Where(p => p.name.StartsWith("heads.", StringComparison.Ordinal) && p.name.EndsWith(".bias", StringComparison.Ordinal)))
            {
                p.fill_(float.NaN);
            }
        }

        net.eval();
        string onnx = Path.Combine(_dir, "nan.onnx");
        OnnxFile.Save(OnnxExporter.Build(net, new OnnxExportOptions()), onnx);
        var options = Options(onnx);
        options.Filter = FilterKind.OneEuro;
        using var tracker = new HeadTracker(options);
        tracker.Start();
        TrackingResult? r = null;
        Assert.True(SpinUntil(() => tracker.TryGetLatest(ref r) && r!.Sequence > 10));
        Assert.Equal(TrackerStatus.Searching, tracker.Status);
        Assert.False(r!.Valid);
        Assert.True(double.IsFinite(r.Filtered.Yaw) && double.IsFinite(r.Filtered.Z) && double.IsFinite(r.Raw.X));
    }

    [Fact]
    public void A_pose_source_the_model_cannot_feed_is_refused_at_start_naming_the_model()
    {
        torch.manual_seed(4);
        using var net = new MultiHeadNet(new ModelConfig { Backbone = "blazeface", Heads = [new HeadConfig { Kind = "center" }] });
        net.eval();
        string onnx = Path.Combine(_dir, "center-only.onnx");
        OnnxFile.Save(OnnxExporter.Build(net, new OnnxExportOptions()), onnx);
        foreach ((PoseSource from, string expected) in new[] { (PoseSource.Keypoints, "PoseFrom = Keypoints needs the keypoints right_eye"), (PoseSource.PoseHead, "the model has no pose head") })
        {
            var options = Options(onnx);
            options.PoseFrom = from;
            using var tracker = new HeadTracker(options);
            var e = Assert.Throws<InvalidDataException>(tracker.Start);
            Assert.Contains("center-only.onnx", e.Message, StringComparison.Ordinal);
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
            Assert.Equal(TrackerStatus.Faulted, tracker.Status);
        }
    }

    private static bool SpinUntil(Func<bool> condition) => SpinWait.SpinUntil(condition, TimeSpan.FromSeconds(20));
}
