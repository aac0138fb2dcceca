using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using HeadTracker.Runtime.Capture;
using HeadTracker.Runtime.Detection;
using HeadTracker.Runtime.Inference;
using HeadTracker.Runtime.Output;
using HeadTracker.Runtime.Pipeline;
using HeadTracker.Runtime.Pose;
using HeadTracker.Runtime.Smoothing;
using OpenCvSharp;

namespace HeadTracker.Runtime;

/// <summary>Where the tracker stands.</summary>
public enum TrackerStatus
{
    /// <summary>Not started, or stopped (also when a video without looping ends).</summary>
    Stopped,

    /// <summary>Start was called; no frame processed yet.</summary>
    Starting,

    /// <summary>A head is found in the newest frame.</summary>
    Tracking,

    /// <summary>Frames arrive but no head is found.</summary>
    Searching,

    /// <summary>The camera stopped delivering frames; the tracker retries with back-off.</summary>
    CameraLost,

    /// <summary>An error stopped the tracker; <see cref="HeadTracker.FaultReason"/> says which.</summary>
    Faulted,
}

/// <summary>
/// Webcam head tracking for a game loop. <see cref="Start"/> opens the model and the camera (or
/// video) and runs a worker thread that reads frames, runs the model, smooths the 6-DoF pose and
/// publishes the newest result; the game calls <see cref="TryGetLatest"/> whenever it likes, from
/// any thread, and never waits. Dispose (or <see cref="Stop"/>) to release the camera.
/// </summary>
public sealed class HeadTracker : IDisposable
{
    private readonly HeadTrackerOptions _options;
    private readonly Func<IFrameSource> _openSource;
    private readonly TrackingResult _latest = new();
    private readonly TrackingResult _work = new();
    private readonly IScalarFilter[] _filters;
    private readonly PushedFrameSource? _pushed;
    private bool _finite; // a file source: when it ends, the tracker stops
    private long _version; // even: _latest is whole; odd: being written
    private HeadModel? _model;
    private KeypointPose? _pnp; // set when the position (and maybe the rotation) comes from keypoints
    private bool _rotationFromKeypoints;
    private BlazeFaceDetector? _detector; // two-stage mode
    private readonly FaceDetections _faces = new();
    private readonly CropTracker _crop; // two-stage mode: the crop the model sees next
    private long _detections;
    private FrameStages[]? _stageLog;
    private long _stagesLogged, _publishTicks;
    private readonly object _tapLock = new();
    private readonly Mat _tapFrame = new();
    private volatile bool _tapFrames;
    private long _tapSequence;

    /// <summary>A HeadTracker face box (the face mesh's bounds, ear to ear) is about this many
    /// times as wide as BlazeFace's box of the same face: 0.84, the median over near-frontal
    /// generated frames (EndToEndTests checks it).</summary>
    internal const double DetectorToFaceWidth = 0.85;
    private readonly double[] _rotation = new double[9];
    private OpentrackSender? _opentrack;
    private ResultRecorder? _recorder;
    private Thread? _worker;
    private volatile bool _stop;
    private bool _started;
    private volatile TrackerStatus _status = TrackerStatus.Stopped;
    private const int WindowStart = 20, WindowFrames = 1000;
    private HeadPose _zero;
    private volatile bool _recenter;

    /// <summary>Checks the options; opens nothing until <see cref="Start"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public HeadTracker(HeadTrackerOptions options)
        : this(options, null)
    {
    }

    /// <summary>For tests and hosts with their own frames: <paramref name="openSource"/> replaces the camera or video.</summary>
    internal HeadTracker(HeadTrackerOptions options, Func<IFrameSource>? openSource)
    {
        if (string.IsNullOrEmpty(options.ModelPath))
        {
            throw new ArgumentException("HeadTrackerOptions.ModelPath is empty", nameof(options));
        }

        if (!(options.HorizontalFovDegrees is > 1 and < 179) || !(options.FaceWidthCm > 0) || options.IntraOpThreads < 1)
        {
            throw new ArgumentException("HeadTrackerOptions: HorizontalFovDegrees must be in (1, 179), FaceWidthCm positive, IntraOpThreads at least 1", nameof(options));
        }

        int sources = (options.PushedFrames ? 1 : 0) + (options.VideoPath != null ? 1 : 0) + (options.ImageFolder != null ? 1 : 0) + (options.CameraName != null ? 1 : 0);
        if (sources > 1)
        {
            throw new ArgumentException("HeadTrackerOptions: set at most one of PushedFrames, VideoPath, ImageFolder and CameraName", nameof(options));
        }

        if (!(options.CropScale is >= 1 and <= 10))
        {
            throw new ArgumentException($"HeadTrackerOptions.CropScale must be in [1, 10], got {options.CropScale}", nameof(options));
        }

        if (!(options.CropDeadband is >= 0 and < 0.5))
        {
            throw new ArgumentException($"HeadTrackerOptions.CropDeadband must be in [0, 0.5), got {options.CropDeadband}", nameof(options));
        }

        if (!(options.RotationHoldDegrees is >= 0 and <= 10) || !(options.PositionHoldCm is >= 0 and <= 10))
        {
            throw new ArgumentException($"HeadTrackerOptions.RotationHoldDegrees and PositionHoldCm must be in [0, 10], got {options.RotationHoldDegrees} and {options.PositionHoldCm}", nameof(options));
        }

        if (options.CameraWidth < 1 || options.CameraHeight < 1 || options.CameraFps < 1)
        {
            throw new ArgumentException("HeadTrackerOptions: CameraWidth, CameraHeight and CameraFps must be positive", nameof(options));
        }

        _options = options;
        _crop = new CropTracker(options.CropDeadband, 2 * options.CropDeadband);
        _pushed = options.PushedFrames ? new PushedFrameSource() : null;
        _openSource = openSource ?? OpenSource;
        _filters = new IScalarFilter[6];
        for (int i = 0; i < 6; i++)
        {
            IScalarFilter filter = options.Filter switch
            {
                FilterKind.Ewma => new EwmaFilter(options.EwmaAlpha),
                FilterKind.None => new NoFilter(),
                _ => new OneEuroFilter(options.MinCutoff, options.Beta, options.DerivativeCutoff),
            };
            double hold = i < 3 ? options.PositionHoldCm : options.RotationHoldDegrees; // X, Y, Z, then yaw, pitch, roll
            _filters[i] = options.Filter == FilterKind.None || hold == 0 ? filter : new HoldFilter(filter, hold);
        }
    }

    private IFrameSource OpenSource()
    {
        HeadTrackerOptions o = _options;
        if (_pushed != null)
        {
            return _pushed;
        }

        if (o.VideoPath != null)
        {
            return new VideoFileSource(o.VideoPath, o.LoopVideo, o.PaceVideo);
        }

        if (o.ImageFolder != null)
        {
            return new ImageFolderSource(o.ImageFolder, o.LoopVideo);
        }

        int index = o.CameraName != null ? CameraSource.FindByName(o.CameraName) : o.CameraIndex;
        return new CameraSource(index, o.CameraWidth, o.CameraHeight, o.CameraFps);
    }

    /// <summary>Where the tracker stands. Any thread.</summary>
    public TrackerStatus Status => _status;

    /// <summary>Why the tracker is <see cref="TrackerStatus.Faulted"/>, else null. Any thread.</summary>
    public string? FaultReason { get; private set; }

    /// <summary>Mean milliseconds per frame of this run, by stage, updated by the worker after
    /// each frame. Any thread; values may be a frame apart.</summary>
    public StageTimes StageMilliseconds { get; private set; }

    /// <summary>In two-stage mode: frames on which the detector ran (the head was lost). Any thread.</summary>
    public long Detections => Interlocked.Read(ref _detections);

    /// <summary>The execution provider in use after <see cref="Start"/> ("CUDA", "DirectML",
    /// "CoreML" or "CPU"), with why preferred ones were passed over; null before. Any thread.</summary>
    public (string Name, string Notes)? ExecutionProvider => _model is { } m ? (m.ExecutionProvider, m.ProviderNotes) : null;

    /// <summary>Managed bytes the worker allocated per frame between its 20th and 1020th frames
    /// (NaN until then): the steady-state cost of the whole loop, frame source included. Any thread.</summary>
    public double AllocatedBytesPerFrame { get; private set; } = double.NaN;

    /// <summary>Opens the model, the opentrack sender and the frame source, then starts the worker.
    /// Call from any thread, once.</summary>
    /// <exception cref="FileNotFoundException">The model or video file is missing.</exception>
    /// <exception cref="DirectoryNotFoundException">The image folder is missing.</exception>
    /// <exception cref="InvalidDataException">The model is not a HeadTracker model, the video does
    /// not decode, or the image folder holds no images.</exception>
    /// <exception cref="IOException">The camera is not there (by index or name).</exception>
    public void Start()
    {
        if (_started)
        {
            throw new InvalidOperationException("Start can be called once; make a new HeadTracker to start again");
        }

        _started = true;

        _status = TrackerStatus.Starting;
        IFrameSource source;
        try
        {
            _model = new HeadModel(_options.ModelPath, _options.IntraOpThreads, _options.ExecutionProviders);
            _pnp = ChoosePoseSource(_model);
            _detector = _options.DetectorPath is { } detector ? new BlazeFaceDetector(detector, _options.IntraOpThreads) : null;
            _opentrack = _options.OpentrackHost is { } host ? new OpentrackSender(host, _options.OpentrackPort) : null;
            _recorder = _options.RecordPath is { } record ? new ResultRecorder(record) : null;
            source = _openSource();
            source = WrapSource?.Invoke(source) ?? source;
        }
        catch (Exception e)
        {
            Fault(e.Message);
            _model?.Dispose();
            _detector?.Dispose();
            _opentrack?.Dispose();
            _recorder?.Dispose();
            throw;
        }

        _finite = !source.Live;
        _stop = false;
        _worker = new Thread(() => Run(source)) { IsBackground = true, Name = "HeadTracker" };
        _worker.Start();
    }

    /// <summary>Stops the worker and releases the camera; results stay readable. Any thread but the worker.</summary>
    public void Stop()
    {
        _stop = true;
        _worker?.Join();
        _worker = null;
        if (_status is not TrackerStatus.Faulted)
        {
            _status = TrackerStatus.Stopped;
        }
    }

    /// <summary>
    /// Hands the tracker a frame as RGBA bytes (top row first), when the options say
    /// <see cref="HeadTrackerOptions.PushedFrames"/>. Copies and returns at once; only the newest
    /// pushed frame is tracked. Any thread.
    /// </summary>
    /// <exception cref="InvalidOperationException">The tracker was not set up for pushed frames.</exception>
    /// <exception cref="ArgumentException">The byte count is not width x height x 4.</exception>
    public void PushFrame(ReadOnlySpan<byte> rgba, int width, int height) =>
        (_pushed ?? throw new InvalidOperationException("PushFrame needs HeadTrackerOptions.PushedFrames = true")).Push(rgba, width, height);

    /// <summary>Makes the current head pose the zero of every axis (applies on the next frame). Any thread.</summary>
    public void Recenter() => _recenter = true;

    /// <summary>
    /// Copies the newest result into <paramref name="result"/> (allocating it on the first call
    /// when null). Never blocks: a result being written is retried, not waited for. Returns false
    /// until the first frame is processed. Any thread; <paramref name="result"/> is the caller's.
    /// </summary>
    public bool TryGetLatest(ref TrackingResult? result)
    {
        result ??= new TrackingResult();
        while (true)
        {
            long before = Volatile.Read(ref _version);
            if ((before & 1) != 0)
            {
                Thread.SpinWait(8);
                continue;
            }

            result.CopyFrom(_latest);
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _version) == before)
            {
                return result.Sequence > 0;
            }
        }
    }

    /// <summary>Stops and releases everything.</summary>
    public void Dispose()
    {
        Stop();
        _model?.Dispose();
        _detector?.Dispose();
        _tapFrame.Dispose();
        _opentrack?.Dispose();
        _recorder?.Dispose();
    }

    private void Run(IFrameSource source)
    {
        var outputs = new HeadOutputs();
        var frame = new Mat();
        var clock = Stopwatch.StartNew();
        double tick = 1000.0 / Stopwatch.Frequency;
        double last = 0, capture = 0, det = 0, pre = 0, inf = 0, dec = 0, pose = 0, total = 0;
        long frames = 0, allocatedAtStart = 0;
        int failures = 0;
        try
        {
            while (!_stop)
            {
                long t0 = Stopwatch.GetTimestamp();
                if (!source.Read(frame))
                {
                    if (_finite)
                    {
                        break; // the video or folder ended
                    }

                    // A camera that stops: say so, back off, try again.
                    _status = TrackerStatus.CameraLost;
                    Thread.Sleep(Math.Min(1000, 50 << Math.Min(failures++, 5)));
                    continue;
                }

                long t1 = Stopwatch.GetTimestamp();
                failures = 0;
                if (frames == WindowStart)
                {
                    allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();
                }
                else if (frames == WindowStart + WindowFrames)
                {
                    AllocatedBytesPerFrame = (GC.GetAllocatedBytesForCurrentThread() - allocatedAtStart) / (double)WindowFrames;
                }

                double now = clock.Elapsed.TotalSeconds;
                bool found = true;
                long detTicks = 0;
                _model!.ResetTicks();
                if (_detector == null)
                {
                    _model.Run(frame, outputs);
                }
                else
                {
                    long d0 = Stopwatch.GetTimestamp();
                    found = _crop.Active || Detect(frame);
                    detTicks = Stopwatch.GetTimestamp() - d0;
                    det += detTicks * tick;
                    if (found)
                    {
                        _model.RunCrop(frame, _crop.X, _crop.Y, _crop.Side, outputs);
                    }
                }

                long p0 = Stopwatch.GetTimestamp();
                bool valid = Publish(found ? outputs : null, frame, now, now - last);
                if (_detector != null)
                {
                    FollowHead(valid, outputs, frame.Width, frame.Height);
                }

                long p1 = Stopwatch.GetTimestamp();
                if (_stageLog is { } log && frames < log.Length)
                {
                    log[frames] = new FrameStages(t1 - t0, detTicks, _model.PreprocessTicks, _model.InferenceTicks, _model.DecodeTicks,
                        p1 - p0 - _publishTicks, _publishTicks, GC.GetAllocatedBytesForCurrentThread());
                    _stagesLogged = frames + 1;
                }

                last = now;
                frames++;
                capture += (t1 - t0) * tick;
                pre += _model.PreprocessTicks * tick;
                inf += _model.InferenceTicks * tick;
                dec += _model.DecodeTicks * tick;
                pose += (p1 - p0) * tick;
                total += (p1 - t0) * tick;
                StageMilliseconds = new StageTimes(capture / frames, det / frames, pre / frames, inf / frames, dec / frames, pose / frames, total / frames);
            }

            _status = TrackerStatus.Stopped;
        }
        catch (Exception e)
        {
            // Whatever goes wrong on the worker must not take the game down with it.
            Fault($"{e.GetType().Name}: {e.Message}");
        }
        finally
        {
            frame.Dispose();
            source.Dispose();
        }
    }

    /// <summary>Builds the frame's result in the work buffer and publishes it whole; returns
    /// whether it is valid. <paramref name="found"/> is null when the detector found no face.</summary>
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
            _pnp?.Reset();
            PublishWhole(r, frame);
            return false;
        }

        HeadOutputs o = found;
        r.Score = o.HasBox ? o.Score : 1f;
        bool valid = r.Score >= _options.MinScore && double.IsFinite(o.CenterX) && double.IsFinite(o.Yaw);
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
        HeadPose raw = default;
        valid = valid && Measure(o, width, height, out raw);
        r.Valid = valid;
        if (!valid)
        {
            _pnp?.Reset();
        }
        else
        {
            if (_recenter)
            {
                _zero = raw;
                _recenter = false;
            }

            raw.X -= _zero.X;
            raw.Y -= _zero.Y;
            raw.Z -= _zero.Z;
            raw.Yaw -= _zero.Yaw;
            raw.Pitch -= _zero.Pitch;
            raw.Roll -= _zero.Roll;
            r.Raw = raw;
            AxisMapping[] a = _options.Axes;
            r.Filtered = new HeadPose
            {
                X = a[0].Apply(_filters[0].Filter(raw.X, dt)),
                Y = a[1].Apply(_filters[1].Filter(raw.Y, dt)),
                Z = a[2].Apply(_filters[2].Filter(raw.Z, dt)),
                Yaw = a[3].Apply(_filters[3].Filter(raw.Yaw, dt)),
                Pitch = a[4].Apply(_filters[4].Filter(raw.Pitch, dt)),
                Roll = a[5].Apply(_filters[5].Filter(raw.Roll, dt)),
            };
            _opentrack?.Send(r.Filtered.X, r.Filtered.Y, r.Filtered.Z, r.Filtered.Yaw, r.Filtered.Pitch, r.Filtered.Roll);
        }

        PublishWhole(r, frame);
        return valid;
    }

    private void PublishWhole(TrackingResult r, Mat frame)
    {
        long start = Stopwatch.GetTimestamp();
        // Seqlock: odd while writing, so readers retry instead of seeing half a result.
        Interlocked.Increment(ref _version);
        _latest.CopyFrom(r);
        Interlocked.Increment(ref _version);
        if (_tapFrames)
        {
            Tap(frame, r.Sequence); // after the result: a tapped frame's result is always readable
        }

        _publishTicks = Stopwatch.GetTimestamp() - start;

        _status = r.Valid ? TrackerStatus.Tracking : TrackerStatus.Searching;
        _recorder?.Write(r);
    }

    /// <summary>For the demo: sees the source Start opened and may wrap it (set before Start).</summary>
    internal Func<IFrameSource, IFrameSource>? WrapSource { get; set; }

    /// <summary>For the benchmark: from the next Start, the worker writes frame i's stage times
    /// (Stopwatch ticks) and its thread's allocation count into <paramref name="log"/>[i], for the
    /// first log.Length frames. Allocates nothing per frame.</summary>
    internal void LogStages(FrameStages[] log) => _stageLog = log;

    /// <summary>How many entries of the stage log are written. Any thread.</summary>
    internal long StagesLogged => Interlocked.Read(ref _stagesLogged);

    /// <summary>
    /// For the demo and tools that draw what the tracker saw: from now on the worker keeps a copy
    /// of each frame it publishes a result for (a memory copy, no allocation while the size holds).
    /// </summary>
    internal void TapFrames() => _tapFrames = true;

    /// <summary>Copies the newest tapped frame (8-bit BGR) into <paramref name="into"/> and returns
    /// the sequence number of its result, or 0 when there is none yet. Any thread.</summary>
    internal long CopyLatestFrame(Mat into)
    {
        lock (_tapLock)
        {
            if (_tapSequence == 0)
            {
                return 0;
            }

            if (into.Width != _tapFrame.Width || into.Height != _tapFrame.Height || into.Type() != _tapFrame.Type())
            {
                into.Create(_tapFrame.Height, _tapFrame.Width, _tapFrame.Type());
            }

            CopyPixels(_tapFrame, into);
            return _tapSequence;
        }
    }

    private void Tap(Mat frame, long sequence)
    {
        lock (_tapLock)
        {
            if (_tapFrame.Width != frame.Width || _tapFrame.Height != frame.Height || _tapFrame.Type() != frame.Type())
            {
                _tapFrame.Create(frame.Height, frame.Width, frame.Type());
            }

            CopyPixels(frame, _tapFrame);
            _tapSequence = sequence;
        }
    }

    private static unsafe void CopyPixels(Mat from, Mat to)
    {
        long rowBytes = from.Width * from.ElemSize();
        int rows = from.Height;
        if (from.IsContinuous() && to.IsContinuous())
        {
            Buffer.MemoryCopy((byte*)from.DataPointer, (byte*)to.DataPointer, rowBytes * rows, rowBytes * rows);
            return;
        }

        for (int y = 0; y < rows; y++)
        {
            Buffer.MemoryCopy((byte*)from.Ptr(y), (byte*)to.Ptr(y), rowBytes, rowBytes);
        }
    }

    /// <summary>Two-stage mode, head lost: runs the detector on the whole frame and, when it finds
    /// a face, starts a crop around the best one.</summary>
    private bool Detect(Mat frame)
    {
        Interlocked.Increment(ref _detections);
        _detector!.Detect(frame, _faces);
        if (_faces.Count == 0)
        {
            return false;
        }

        // The user is the face nearest the camera: the widest one, not the likeliest.
        float[] b = _faces.Boxes;
        int best = 0;
        for (int i = 1; i < _faces.Count; i++)
        {
            if (b[(i * 4) + 2] - b[i * 4] > b[(best * 4) + 2] - b[best * 4])
            {
                best = i;
            }
        }

        float x0 = b[best * 4], y0 = b[(best * 4) + 1], x1 = b[(best * 4) + 2], y1 = b[(best * 4) + 3];
        _crop.Place((x0 + x1) / 2, (y0 + y1) / 2, ClampSide((float)(_options.CropScale * DetectorToFaceWidth * (x1 - x0)), frame.Width, frame.Height));
        return true;
    }

    /// <summary>Two-stage mode: the next crop follows the head the model found (its centre, and its
    /// face width when the model has a box head) once it leaves the crop's dead band
    /// (<see cref="CropTracker"/>), or is dropped when the head was lost.</summary>
    private void FollowHead(bool valid, HeadOutputs o, int width, int height)
    {
        if (!valid)
        {
            _crop.Lose();
            return;
        }

        float side = o.HasBox ? ClampSide((float)(_options.CropScale * (o.Box[2] - o.Box[0])), width, height) : float.NaN;
        if (o.HasCenter)
        {
            _crop.Follow(o.CenterX, o.CenterY, side);
        }
        else if (o.HasBox)
        {
            _crop.Follow((o.Box[0] + o.Box[2]) / 2, (o.Box[1] + o.Box[3]) / 2, side);
        }
    }

    private static float ClampSide(float side, int width, int height) =>
        float.IsFinite(side) ? Math.Max(32f, Math.Min(side, 2f * Math.Max(width, height))) : 2f * Math.Max(width, height);

    /// <summary>Rotation and position as <see cref="PoseSource"/> says: by solvePnP of the
    /// keypoints, from the pose head, or from the face box (its width against
    /// <see cref="HeadTrackerOptions.FaceWidthCm"/>) and the head centre, through a pinhole camera
    /// with the configured field of view. False when there is no finite, plausible pose.</summary>
    private bool Measure(HeadOutputs o, int width, int height, out HeadPose pose)
    {
        pose = default;
        if (_pnp != null)
        {
            if (!_pnp.Solve(o.Keypoints, width, height, _options.HorizontalFovDegrees, _rotation, out var c))
            {
                return false;
            }

            (pose.X, pose.Y, pose.Z) = c;
            if (_rotationFromKeypoints)
            {
                (pose.Yaw, pose.Pitch, pose.Roll) = Rotation.ToEuler(_rotation);
            }
        }
        else
        {
            double f = width / 2.0 / Math.Tan(_options.HorizontalFovDegrees * Math.PI / 360);
            double boxWidth = o.Box[2] - o.Box[0];
            double z = o.HasBox && boxWidth > 1 ? f * _options.FaceWidthCm / boxWidth : 60;
            double cx = o.HasCenter ? o.CenterX : (o.Box[0] + o.Box[2]) / 2, cy = o.HasCenter ? o.CenterY : (o.Box[1] + o.Box[3]) / 2;
            pose.X = (cx - (width / 2.0)) * z / f;
            pose.Y = (cy - (height / 2.0)) * z / f;
            pose.Z = z;
        }

        if (!_rotationFromKeypoints && o.HasPose)
        {
            if (o.PoseRelativeToRay && pose.Z > 0)
            {
                // The model saw the head, not where in the frame it was: its rotation is relative
                // to the ray through the head centre, turned here into the camera's.
                Span<double> apparent = stackalloc double[9];
                for (int i = 0; i < 9; i++)
                {
                    apparent[i] = o.RotationMatrix[i];
                }

                Rotation.RayToCamera(apparent, pose.X / pose.Z, pose.Y / pose.Z, _rotation);
                (pose.Yaw, pose.Pitch, pose.Roll) = Rotation.ToEuler(_rotation);
            }
            else
            {
                (pose.Yaw, pose.Pitch, pose.Roll) = (o.Yaw, o.Pitch, o.Roll);
            }
        }

        // NaN from the model must not reach the filters: it would stay in their state for good.
        return double.IsFinite(pose.X) && double.IsFinite(pose.Y) && double.IsFinite(pose.Z)
            && double.IsFinite(pose.Yaw) && double.IsFinite(pose.Pitch) && double.IsFinite(pose.Roll);
    }

    /// <summary>Sets up where rotation and position come from (see <see cref="PoseSource"/>):
    /// returns the keypoint solver when keypoints are used at all, and sets
    /// <see cref="_rotationFromKeypoints"/>.</summary>
    private KeypointPose? ChoosePoseSource(HeadModel model)
    {
        bool hasPose = model.Manifest.Outputs.Exists(o => o.Kind == "pose");
        string[]? names = model.Manifest.Outputs.Find(o => o.Kind == "keypoints")?.KeypointNames;
        KeypointPose? pnp = KeypointPose.For(names);
        switch (_options.PoseFrom)
        {
            case PoseSource.PoseHead when !hasPose:
                throw new InvalidDataException($"{_options.ModelPath}: PoseFrom = PoseHead, but the model has no pose head");
            case PoseSource.Keypoints when pnp == null:
                throw new InvalidDataException($"{_options.ModelPath}: PoseFrom = Keypoints needs the keypoints {string.Join(", ", KeypointPose.GenericFace.Keys)}; the model has {(names == null ? "no keypoint head" : string.Join(", ", names))}");
            case PoseSource.PoseHead:
                _rotationFromKeypoints = false;
                return null;
            case PoseSource.Keypoints:
                _rotationFromKeypoints = true;
                return pnp;
            default:
                _rotationFromKeypoints = !hasPose && pnp != null;
                return pnp;
        }
    }

    private void Fault(string reason)
    {
        FaultReason = reason;
        _status = TrackerStatus.Faulted;
    }
}

/// <summary>One frame's stage times in Stopwatch ticks, and the worker thread's allocated-bytes
/// counter after the frame (for the benchmark).</summary>
internal readonly struct FrameStages
{
    public FrameStages(long capture, long detect, long preprocess, long inference, long decode, long pose, long publish, long allocatedBytes)
    {
        Capture = capture;
        Detect = detect;
        Preprocess = preprocess;
        Inference = inference;
        Decode = decode;
        Pose = pose;
        Publish = publish;
        AllocatedBytes = allocatedBytes;
    }

    public long Capture { get; }

    public long Detect { get; }

    public long Preprocess { get; }

    public long Inference { get; }

    public long Decode { get; }

    public long Pose { get; }

    public long Publish { get; }

    public long AllocatedBytes { get; }
}
