using System;
using System.Diagnostics;
using HeadTracking.Runtime.Inference;
using HeadTracking.Runtime.Output;
using OpenCvSharp;

namespace HeadTracking.Runtime.Pipeline;

/// <summary>
/// One frame's work, in order: where to look (<see cref="HeadFinder"/>, two-stage mode only) ->
/// the model and its decoded heads (<see cref="HeadModel"/>) -> the raw pose
/// (<see cref="PoseEstimator"/>) -> recentring, smoothing and axis mapping
/// (<see cref="PoseSmoother"/>) -> the result published whole (<see cref="LatestResult"/>), sent
/// to opentrack and recorded. Disposes the model, finder, sender and recorder it was given. Allocates nothing per frame once the
/// result's arrays have their sizes. Not thread-safe: the worker's.
/// </summary>
internal sealed class FrameProcessor : IDisposable
{
    private readonly HeadTrackerOptions _options;
    private readonly PoseEstimator _pose;
    private readonly PoseSmoother _smoother;
    private readonly OpentrackSender? _opentrack;
    private readonly ResultRecorder? _recorder;
    private readonly LatestResult _latest;
    private readonly FrameTap _tap;
    private readonly HeadOutputs _outputs = new();
    private readonly TrackingResult _work = new();

    public FrameProcessor(HeadTrackerOptions options, HeadModel model, HeadFinder? finder, PoseSmoother smoother, OpentrackSender? opentrack,
        ResultRecorder? recorder, LatestResult latest, FrameTap tap)
    {
        _options = options;
        Model = model;
        Finder = finder;
        _pose = new PoseEstimator(options, model.Manifest);
        _smoother = smoother;
        _opentrack = opentrack;
        _recorder = recorder;
        _latest = latest;
        _tap = tap;
    }

    public HeadModel Model { get; }

    public HeadFinder? Finder { get; }


    /// <summary>Stopwatch ticks of the last frame's detector search (0 when it did not run).</summary>
    public long DetectTicks { get; private set; }

    /// <summary>Stopwatch ticks of the last frame's work after the model: pose, smoothing, the
    /// crop's next place, outputs; without <see cref="PublishTicks"/>.</summary>
    public long PoseTicks { get; private set; }

    /// <summary>Stopwatch ticks of the last frame's publishing (the seqlock copy and the frame tap).</summary>
    public long PublishTicks { get; private set; }

    /// <summary>Runs everything on one BGR frame taken at <paramref name="now"/> seconds,
    /// <paramref name="dt"/> seconds after the last; returns whether it holds a valid head.</summary>
    public bool Process(Mat frame, double now, double dt)
    {
        bool found = true;
        DetectTicks = 0;
        Model.ResetTicks();
        if (Finder == null)
        {
            Model.Run(frame, _outputs);
        }
        else
        {
            long d0 = Stopwatch.GetTimestamp();
            found = Finder.Locate(frame);
            DetectTicks = Stopwatch.GetTimestamp() - d0;
            if (found)
            {
                CropTracker crop = Finder.Crop;
                Model.RunCrop(frame, crop.X, crop.Y, crop.Side, _outputs);
            }
        }

        long p0 = Stopwatch.GetTimestamp();
        bool valid = Publish(found ? _outputs : null, frame, now, dt);
        Finder?.Follow(valid, _outputs, frame.Width, frame.Height);
        PoseTicks = Stopwatch.GetTimestamp() - p0 - PublishTicks;
        return valid;
    }

    public void Dispose()
    {
        Model.Dispose();
        Finder?.Dispose();
        _opentrack?.Dispose();
        _recorder?.Dispose();
    }

    /// <summary>Builds the frame's result and publishes it whole; returns whether it is valid.
    /// <paramref name="found"/> is null when the detector found no face.</summary>
    private bool Publish(HeadOutputs? found, Mat frame, double now, double dt)
    {
        int width = frame.Width, height = frame.Height;
        TrackingResult r = _work;
        r.Sequence++;
        r.Timestamp = now;
        r.FrameWidth = width;
        r.FrameHeight = height;
        if (found == null)
        {
            r.Valid = false;
            r.Score = 0;
            _pose.Reset();
            PublishWhole(r, frame);
            return false;
        }

        HeadOutputs o = found;
        r.Score = o.HasBox ? o.Score : 1f;
        bool valid = r.Score >= _options.MinScore && double.IsFinite(o.CenterX) && double.IsFinite(o.Yaw);
        CopyHeads(o, r);
        HeadPose raw = default;
        valid = valid && _pose.Measure(o, width, height, out raw);
        r.Valid = valid;
        if (!valid)
        {
            _pose.Reset();
        }
        else
        {
            r.Filtered = _smoother.Smooth(ref raw, dt);
            r.Raw = raw;
            _opentrack?.Send(r.Filtered.X, r.Filtered.Y, r.Filtered.Z, r.Filtered.Yaw, r.Filtered.Pitch, r.Filtered.Roll);
        }

        PublishWhole(r, frame);
        return valid;
    }

    private static void CopyHeads(HeadOutputs o, TrackingResult r)
    {
        r.CenterX = o.CenterX;
        r.CenterY = o.CenterY;
        Array.Copy(o.Box, r.Box, 4);
        if (r.Keypoints.Length != o.Keypoints.Length)
        {
            r.Keypoints = new float[o.Keypoints.Length]; // once, on the first frame
        }

        Array.Copy(o.Keypoints, r.Keypoints, r.Keypoints.Length);
        if (r.Mask.Length != o.Mask.Length)
        {
            r.Mask = new byte[o.Mask.Length]; // once, on the first frame
        }

        Array.Copy(o.Mask, r.Mask, r.Mask.Length);
        r.MaskWidth = o.MaskWidth;
        r.MaskHeight = o.MaskHeight;
        Array.Copy(o.MaskRegion, r.MaskRegion, 4);
    }

    private void PublishWhole(TrackingResult r, Mat frame)
    {
        long start = Stopwatch.GetTimestamp();
        _latest.Publish(r);
        _tap.Keep(frame, r.Sequence); // after the result: a tapped frame's result is always readable
        PublishTicks = Stopwatch.GetTimestamp() - start;
        _recorder?.Write(r);
    }
}
