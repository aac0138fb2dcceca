using System;
using System.IO;
using System.Linq;
using System.Threading;
using HeadTracking.Runtime;
using HeadTracking.Runtime.Capture;
using HeadTracking.Tests;
using OpenCvSharp;

namespace HeadTracking.Runtime.Tests;

/// <summary>Frames from memory, alternating between two pictures; can be told to go dark.</summary>
internal sealed class FakeSource(Mat a, Mat b) : IFrameSource
{
    private long _n;

    public volatile bool Dark;

    public volatile bool Broken;

    public string Description => "fake";

    public bool Live => true;

    public bool Read(Mat frame)
    {
        Thread.Sleep(2);
        if (Dark)
        {
            return false;
        }

        if (Broken)
        {
            throw new System.IO.InvalidDataException("frame 12 of fake.avi is corrupt");
        }

        (_n++ % 2 == 0 ? a : b).CopyTo(frame);
        return true;
    }

    public void Dispose()
    {
    }
}

/// <summary>The game-facing tracker on the shipped model and a fake camera (models the trainer
/// must build on purpose, e.g. one that outputs NaN, are tested in the trainer's project).</summary>
public sealed class HeadTrackerTests : IDisposable
{
    private readonly string _dir = Repo.NewTempDir("tracker");
    private readonly string _onnx = Path.Combine(Repo.Root, "models", "headtracker-default.onnx");
    private readonly Mat _a, _b;

    public HeadTrackerTests()
    {
        _a = Cv2.ImRead(Repo.Fetched("faces/sample2.jpg")).Resize(new Size(640, 480));
        _b = Cv2.ImRead(Repo.Fetched("faces/sample3.jpg")).Resize(new Size(640, 480));
    }

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private HeadTrackerOptions Options => new() { ModelPath = _onnx, MinScore = 0, Filter = FilterKind.None };

    [Fact]
    public void A_reader_hammering_TryGetLatest_never_sees_half_a_result()
    {
        var source = new FakeSource(_a, _b);
        using var tracker = new HeadTracker(Options, () => source);
        tracker.Start();
        TrackingResult? r = null;
        while (!tracker.TryGetLatest(ref r) || r!.Sequence < 3)
        {
            Thread.Sleep(1);
        }

        // The model is deterministic: frames alternate between two pictures, so every whole result
        // is one of two, and odd sequence numbers belong to the first.
        var seen = new (float CenterX, float Box0, float Keypoint0)[2];
        int reads = 0, start = Environment.TickCount;
        long lastSequence = 0;
        while (Environment.TickCount - start < 1500)
        {
            tracker.TryGetLatest(ref r);
            int which = (int)((r!.Sequence - 1) % 2);
            var tuple = (r.CenterX, r.Box[0], r.Keypoints[0]);
            if (seen[which] == default)
            {
                seen[which] = tuple;
            }

            Assert.Equal(seen[which], tuple);
            Assert.True(r.Sequence >= lastSequence, "the sequence went backwards");
            lastSequence = r.Sequence;
            reads++;
        }

        Assert.True(reads > 1000, $"only {reads} reads");
        Assert.True(lastSequence > 20, $"only {lastSequence} frames processed");
        Assert.NotEqual(seen[0], seen[1]);
        Assert.Equal(TrackerStatus.Tracking, tracker.Status);
        Assert.True(tracker.StageMilliseconds.Inference > 0);
    }

    [Fact]
    public void A_camera_that_goes_dark_is_reported_and_tracking_resumes_when_frames_return()
    {
        var source = new FakeSource(_a, _b);
        using var tracker = new HeadTracker(Options, () => source);
        tracker.Start();
        Assert.True(SpinUntil(() => tracker.Status == TrackerStatus.Tracking));
        source.Dark = true;
        Assert.True(SpinUntil(() => tracker.Status == TrackerStatus.CameraLost));
        TrackingResult? r = null;
        tracker.TryGetLatest(ref r);
        long before = r!.Sequence;
        source.Dark = false;
        Assert.True(SpinUntil(() => tracker.Status == TrackerStatus.Tracking));
        Assert.True(SpinUntil(() => tracker.TryGetLatest(ref r) && r!.Sequence > before));
        tracker.Stop();
        Assert.Equal(TrackerStatus.Stopped, tracker.Status);
    }

    [Fact]
    public void A_source_that_fails_mid_run_faults_the_tracker_with_the_reason_and_nothing_crashes()
    {
        var source = new FakeSource(_a, _b);
        using var tracker = new HeadTracker(Options, () => source);
        tracker.Start();
        Assert.True(SpinUntil(() => tracker.Status == TrackerStatus.Tracking));
        source.Broken = true;
        Assert.True(SpinUntil(() => tracker.Status == TrackerStatus.Faulted));
        Assert.Contains("frame 12 of fake.avi is corrupt", tracker.FaultReason, StringComparison.Ordinal);
        TrackingResult? r = null;
        Assert.True(tracker.TryGetLatest(ref r)); // the last good result stays readable
    }

    [Fact]
    public void The_recorder_writes_a_json_line_per_frame_and_axes_map_the_filtered_pose()
    {
        string record = Path.Combine(_dir, "run.jsonl");
        var options = Options;
        options.RecordPath = record;
        options.Axes[3].Invert = true; // yaw
        options.Axes[2].Scale = 0.5; // z
        var source = new FakeSource(_a, _a);
        using (var tracker = new HeadTracker(options, () => source))
        {
            tracker.Start();
            TrackingResult? r = null;
            Assert.True(SpinUntil(() => tracker.TryGetLatest(ref r) && r!.Sequence > 5));
            Assert.Equal(-r!.Raw.Yaw, r.Filtered.Yaw, 6); // no smoothing in these options
            Assert.Equal(r.Raw.Z * 0.5, r.Filtered.Z, 6);
            tracker.Stop();
        }

        string[] lines = File.ReadAllLines(record);
        Assert.True(lines.Length > 5);
        for (int i = 0; i < lines.Length; i++)
        {
            using var json = System.Text.Json.JsonDocument.Parse(lines[i]);
            var root = json.RootElement;
            Assert.Equal(i + 1, root.GetProperty("frame").GetInt64());
            Assert.Equal(4, root.GetProperty("box").GetArrayLength());
            Assert.Equal(12, root.GetProperty("keypoints").GetArrayLength());
            Assert.True(root.GetProperty("filtered").GetProperty("z").GetDouble() > 0);
        }
    }

    [Fact]
    public void Recording_allocates_nothing_per_frame()
    {
        using var recorder = new Runtime.Output.ResultRecorder(Path.Combine(_dir, "alloc.jsonl"));
        var r = new TrackingResult();
        for (int i = 0; i < 5; i++)
        {
            recorder.Write(r);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
        {
            recorder.Write(r);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_whole_worker_loop_on_a_video_allocates_nothing_per_frame(bool twoStage)
    {
        // Frame source, model, decoding, pose, filters and publishing together, measured on the
        // worker thread itself over 1000 frames after 20 of warm-up (the clip loops).
        string video = Path.Combine(_dir, "clip.avi");
        using (var writer = new VideoWriter(video, FourCC.MJPG, 30, new Size(640, 480)))
        {
            for (int i = 0; i < 140; i++)
            {
                writer.Write(i % 2 == 0 ? _a : _b);
            }
        }

        var options = Options;
        options.VideoPath = video;
        options.LoopVideo = true;
        options.PaceVideo = false;
        options.DetectorPath = twoStage ? Repo.BlazeFaceFront : null;
        using var tracker = new HeadTracker(options);
        tracker.Start();
        Assert.True(SpinWait.SpinUntil(() => !double.IsNaN(tracker.AllocatedBytesPerFrame), TimeSpan.FromMinutes(2)), "1020 frames were not tracked in 2 minutes");
        Assert.True(tracker.AllocatedBytesPerFrame == 0, $"{tracker.AllocatedBytesPerFrame} bytes a frame");
        Assert.Equal(twoStage, tracker.Detections > 0);
    }

    [Fact]
    public void An_image_folder_is_tracked_frame_by_frame_and_the_tracker_stops_at_its_end()
    {
        string folder = Path.Combine(_dir, "frames");
        Directory.CreateDirectory(folder);
        for (int i = 0; i < 5; i++)
        {
            Cv2.ImWrite(Path.Combine(folder, $"{i:D3}.jpg"), i % 2 == 0 ? _a : _b);
        }

        var options = Options;
        options.ImageFolder = folder;
        options.LoopVideo = false;
        using var tracker = new HeadTracker(options);
        tracker.Start();
        Assert.True(SpinUntil(() => tracker.Status == TrackerStatus.Stopped));
        TrackingResult? r = null;
        Assert.True(tracker.TryGetLatest(ref r));
        Assert.Equal(5, r!.Sequence);

        options.CameraName = "C920";
        var e = Assert.Throws<ArgumentException>(() => new HeadTracker(options));
        Assert.Contains("at most one of PushedFrames, VideoPath, ImageFolder and CameraName", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Execution_provider_falls_back_to_the_cpu_and_says_why()
    {
        var options = Options;
        options.ExecutionProviders = ["cuda", "warp-drive", "cpu"];
        var source = new FakeSource(_a, _b);
        using var tracker = new HeadTracker(options, () => source);
        Assert.Null(tracker.ExecutionProvider);
        tracker.Start();
        (string name, string notes) = tracker.ExecutionProvider!.Value;
        // This machine's ONNX Runtime package is the CPU one: CUDA is passed over with a reason.
        Assert.Equal("CPU", name);
        Assert.Contains("cuda:", notes, StringComparison.Ordinal);
        Assert.Contains("warp-drive: unknown execution provider", notes, StringComparison.Ordinal);
    }

    [Fact]
    public void Frames_pushed_by_the_host_are_tracked_and_wrong_sizes_are_named()
    {
        var options = Options;
        options.PushedFrames = true;
        using var tracker = new HeadTracker(options);
        tracker.Start();
        using var rgba = new Mat();
        Cv2.CvtColor(_a, rgba, ColorConversionCodes.BGR2RGBA);
        rgba.GetArray(out Vec4b[] pixels);
        byte[] bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(pixels.AsSpan()).ToArray();
        TrackingResult? r = null;
        for (int i = 0; i < 200 && !(tracker.TryGetLatest(ref r) && r!.Sequence >= 3); i++)
        {
            tracker.PushFrame(bytes, 640, 480);
            Thread.Sleep(20);
        }

        Assert.True(r!.Sequence >= 3, "pushed frames were not tracked");
        var e = Assert.Throws<ArgumentException>(() => tracker.PushFrame(bytes, 640, 400));
        Assert.Contains("640x400 RGBA needs 1024000 bytes, got 1228800", e.Message, StringComparison.Ordinal);
        tracker.Stop();
        tracker.PushFrame(bytes, 640, 480); // late frames after Stop are dropped, not a crash
    }

    [Fact]
    public void Axis_mapping_applies_dead_zone_then_scale_then_sign()
    {
        var m = new AxisMapping { DeadZone = 2, Scale = 3, Invert = true };
        Assert.Equal(0, m.Apply(1.5));
        Assert.Equal(-3, m.Apply(3));
        Assert.Equal(3, m.Apply(-3));
        Assert.Equal(5, new AxisMapping().Apply(5));
    }

    [Fact]
    public void Recenter_makes_the_current_pose_zero()
    {
        var source = new FakeSource(_a, _a);
        using var tracker = new HeadTracker(Options, () => source);
        tracker.Start();
        TrackingResult? r = null;
        Assert.True(SpinUntil(() => tracker.TryGetLatest(ref r) && r!.Sequence > 2));
        Assert.NotEqual(0, r!.Raw.Z);
        tracker.Recenter();
        long at = r.Sequence;
        Assert.True(SpinUntil(() => tracker.TryGetLatest(ref r) && r!.Sequence > at + 2));
        // Zero up to the pose solver's own convergence (it starts from the last frame's solution).
        Assert.Equal(0, r!.Raw.X, 4);
        Assert.Equal(0, r.Raw.Z, 4);
        Assert.Equal(0, r.Raw.Yaw, 4);
    }

    [Fact]
    public void Bad_starts_say_what_is_wrong_and_leave_the_tracker_faulted()
    {
        using (var missing = new HeadTracker(new HeadTrackerOptions { ModelPath = Path.Combine(_dir, "none.onnx"), VideoPath = "x.avi" }))
        {
            var e = Assert.Throws<FileNotFoundException>(missing.Start);
            Assert.Contains("none.onnx", e.Message, StringComparison.Ordinal);
            Assert.Equal(TrackerStatus.Faulted, missing.Status);
            Assert.Contains("none.onnx", missing.FaultReason, StringComparison.Ordinal);
        }

        using (var camera = new HeadTracker(new HeadTrackerOptions { ModelPath = _onnx, CameraIndex = 7 }))
        {
            var e = Assert.Throws<IOException>(camera.Start);
            Assert.Contains("camera 7", e.Message, StringComparison.Ordinal);
        }

        using (var blazeface = new HeadTracker(new HeadTrackerOptions { ModelPath = Repo.BlazeFaceFront, VideoPath = "x.avi" }))
        {
            Assert.Throws<InvalidDataException>(blazeface.Start);
        }

        string corrupt = Path.Combine(_dir, "corrupt.onnx");
        File.WriteAllBytes(corrupt, [.. File.ReadAllBytes(_onnx).Take(5000)]);
        using (var truncated = new HeadTracker(new HeadTrackerOptions { ModelPath = corrupt, VideoPath = "x.avi" }))
        {
            var e = Assert.Throws<InvalidDataException>(truncated.Start);
            Assert.Contains("corrupt.onnx", e.Message, StringComparison.Ordinal);
        }

        // A manifest from a future format version: the same number of bytes, so the file stays valid protobuf.
        byte[] bytes = File.ReadAllBytes(_onnx);
        byte[] current = System.Text.Encoding.ASCII.GetBytes(Models.ModelManifest.CurrentFormat);
        int at = bytes.AsSpan().IndexOf(current);
        Assert.True(at > 0, $"{_onnx} does not name {Models.ModelManifest.CurrentFormat}");
        bytes[at + current.Length - 1] = (byte)'9';
        string future = Path.Combine(_dir, "future.onnx");
        File.WriteAllBytes(future, bytes);
        using (var newer = new HeadTracker(new HeadTrackerOptions { ModelPath = future, VideoPath = "x.avi" }))
        {
            var e = Assert.Throws<InvalidDataException>(newer.Start);
            Assert.Contains("future.onnx", e.Message, StringComparison.Ordinal);
            Assert.Contains("headtracker-model/9", e.Message, StringComparison.Ordinal);
        }

        string garbage = Path.Combine(_dir, "garbage.avi");
        File.WriteAllBytes(garbage, new byte[10_000]);
        using (var video = new HeadTracker(new HeadTrackerOptions { ModelPath = _onnx, VideoPath = garbage }))
        {
            var e = Assert.Throws<InvalidDataException>(video.Start);
            Assert.Contains("garbage.avi", e.Message, StringComparison.Ordinal);
            Assert.Equal(TrackerStatus.Faulted, video.Status);
        }

        Assert.Throws<ArgumentException>(() => new HeadTracker(new HeadTrackerOptions { ModelPath = _onnx, HorizontalFovDegrees = 0 }));
        Assert.Throws<ArgumentException>(() => new HeadTracker(new HeadTrackerOptions { ModelPath = _onnx, CropScale = 0.5 }));
    }

    private static bool SpinUntil(Func<bool> condition) => SpinWait.SpinUntil(condition, TimeSpan.FromSeconds(20));
}
