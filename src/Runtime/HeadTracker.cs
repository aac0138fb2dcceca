using System;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Threading;
using HeadTracking.Runtime.Capture;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Detection;
using HeadTracking.Runtime.Inference;
using HeadTracking.Runtime.Output;
using HeadTracking.Runtime.Pipeline;
using OpenCvSharp;

namespace HeadTracking.Runtime;

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
    private const int WindowStart = 20, WindowFrames = 1000;
    private readonly HeadTrackerOptions _options;
    private readonly Func<IFrameSource> _openSource;
    private readonly PushedFrameSource? _pushed;
    private readonly LatestResult _latest = new();
    private readonly FrameTap _tap = new();
    private volatile SteppedFrameSource? _stepped; // StepFrames: set by Start, released by Step from any thread
    private readonly PoseSmoother _smoother; // made here, so Recenter works before Start too
    private volatile FrameProcessor? _processor; // one frame's work, from Start on; read by any thread
    private Thread? _worker;
    private volatile bool _stop;
    private bool _started, _finite; // _finite: a file source; when it ends, the tracker stops
    private volatile TrackerStatus _status = TrackerStatus.Stopped;
    private FrameStages[]? _stageLog;
    private long _stagesLogged;

    /// <summary>Checks the options; opens nothing until <see cref="Start"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public HeadTracker(HeadTrackerOptions options)
        : this(options, null)
    {
    }

    /// <summary>For tests and hosts with their own frames: <paramref name="openSource"/> replaces the camera or video.</summary>
    internal HeadTracker(HeadTrackerOptions options, Func<IFrameSource>? openSource)
    {
        options.Check();
        _options = options;
        _smoother = new PoseSmoother(options);
        _pushed = options.PushedFrames ? new PushedFrameSource() : null;
        _openSource = openSource ?? OpenSource;
        _tap.Enabled = options.KeepFrames;
    }

    /// <summary>Where the tracker stands. Any thread.</summary>
    public TrackerStatus Status => _status;

    /// <summary>Why the tracker is <see cref="TrackerStatus.Faulted"/>, else null. Any thread.</summary>
    public string? FaultReason { get; private set; }

    /// <summary>Mean milliseconds per frame of this run, by stage, updated by the worker after
    /// each frame. Any thread; values may be a frame apart.</summary>
    public StageTimes StageMilliseconds { get; private set; }

    /// <summary>In two-stage mode: frames on which the detector ran (the head was lost). Any thread.</summary>
    public long Detections => _processor?.Finder?.Detections ?? 0;

    /// <summary>The execution provider in use after <see cref="Start"/> ("CUDA", "DirectML",
    /// "CoreML" or "CPU"), with why preferred ones were passed over; null before. Any thread.</summary>
    public (string Name, string Notes)? ExecutionProvider => _processor is { } p ? (p.Model.ExecutionProvider, p.Model.ProviderNotes) : null;

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
        HeadModel? model = null;
        HeadFinder? finder = null;
        OpentrackSender? opentrack = null;
        ResultRecorder? recorder = null;
        try
        {
            model = new HeadModel(_options.ModelPath, _options.IntraOpThreads, _options.ExecutionProviders);
            finder = _options.DetectorPath is { } detector
                ? new HeadFinder(new BlazeFaceDetector(detector, _options.IntraOpThreads), _options.CropScale, _options.CropDeadband)
                : null;
            opentrack = _options.OpentrackHost is { } host ? new OpentrackSender(host, _options.OpentrackPort) : null;
            recorder = _options.RecordPath is { } record ? new ResultRecorder(record) : null;
            _processor = new FrameProcessor(_options, model, finder, _smoother, opentrack, recorder, _latest, _tap);
            source = _openSource();
            if (_options.StepFrames)
            {
                source = _stepped = new SteppedFrameSource(source);
            }

            Source = source.Description;
            KeypointNames = model.Manifest.Outputs.Find(o => o.Kind == OutputKinds.Keypoints)?.KeypointNames ?? [];
        }
        catch (Exception e)
        {
            Fault(e.Message);
            _processor = null;
            model?.Dispose();
            finder?.Dispose();
            opentrack?.Dispose();
            recorder?.Dispose();
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
        _stepped?.Close(); // the worker may be waiting for a step that will not come
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
    public void Recenter() => _smoother.Recenter();

    /// <summary>
    /// Copies the newest result into <paramref name="result"/> (allocating it on the first call
    /// when null). Never blocks: a result being written is retried, not waited for. Returns false
    /// until the first frame is processed. Any thread; <paramref name="result"/> is the caller's,
    /// and never null after the call.
    /// </summary>
    public bool TryGetLatest([NotNull] ref TrackingResult? result) => _latest.TryRead(ref result);

    /// <summary>
    /// Copies the newest frame the tracker published a result for into <paramref name="frame"/>
    /// (allocating it on the first call when null; its pixels are reused while the size holds), when
    /// the options say <see cref="HeadTrackerOptions.KeepFrames"/>. Its <see cref="CameraFrame.Sequence"/>
    /// matches a <see cref="TrackingResult.Sequence"/>: draw the pair together. Returns false until
    /// the first result. Any thread.
    /// </summary>
    /// <exception cref="InvalidOperationException">The tracker was not set up to keep frames.</exception>
    public bool TryGetLatestFrame([NotNull] ref CameraFrame? frame)
    {
        frame ??= new CameraFrame();
        return _options.KeepFrames
            ? _tap.CopyLatest(frame)
            : throw new InvalidOperationException("TryGetLatestFrame needs HeadTrackerOptions.KeepFrames = true");
    }

    /// <summary>
    /// Lets the next frame of the video or image folder in, when the options say
    /// <see cref="HeadTrackerOptions.StepFrames"/>: one frame per call, so a host can wait for each
    /// frame's result before the next is read. Any thread.
    /// </summary>
    /// <exception cref="InvalidOperationException">The tracker was not set up to step, or is not started.</exception>
    public void Step() =>
        (_stepped ?? throw new InvalidOperationException(_options.StepFrames
            ? "Step needs a started tracker"
            : "Step needs HeadTrackerOptions.StepFrames = true")).Release();

    /// <summary>Names of the model's keypoints, in the order of <see cref="TrackingResult.Keypoints"/>
    /// (e.g. right_eye, left_eye, nose_tip, mouth, right_ear, left_ear), after <see cref="Start"/>;
    /// empty before, or when the model has none.</summary>
    public string[] KeypointNames { get; private set; } = [];

    /// <summary>Whether camera <paramref name="index"/> exists, without opening it (Linux: its
    /// /dev/video node; elsewhere assumed present, and checked by <see cref="Start"/>).</summary>
    public static bool CameraExists(int index) => CameraSource.IsPresent(index);

    /// <summary>What the frames come from (the camera, the video or the folder), after
    /// <see cref="Start"/>; null before.</summary>
    public string? Source { get; private set; }

    /// <summary>Stops and releases everything.</summary>
    public void Dispose()
    {
        Stop();
        _processor?.Dispose();
        _tap.Dispose();
    }

    /// <summary>For the benchmark: from the next Start, the worker writes frame i's stage times
    /// (Stopwatch ticks) and its thread's allocation count into <paramref name="log"/>[i], for the
    /// first log.Length frames. Allocates nothing per frame.</summary>
    internal void LogStages(FrameStages[] log) => _stageLog = log;

    /// <summary>How many entries of the stage log are written. Any thread.</summary>
    internal long StagesLogged => Interlocked.Read(ref _stagesLogged);

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

    /// <summary>The worker: reads frames until stopped (or a file ends), hands each to the
    /// <see cref="FrameProcessor"/>, keeps the stage times, and turns a camera that stops into
    /// <see cref="TrackerStatus.CameraLost"/> and anything thrown into <see cref="TrackerStatus.Faulted"/>.</summary>
    private void Run(IFrameSource source)
    {
        FrameProcessor processor = _processor!;
        HeadModel model = processor.Model;
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
                bool valid = processor.Process(frame, now, now - last);
                _status = valid ? TrackerStatus.Tracking : TrackerStatus.Searching;
                long t2 = Stopwatch.GetTimestamp();
                if (_stageLog is { } log && frames < log.Length)
                {
                    log[frames] = new FrameStages(t1 - t0, processor.DetectTicks, model.PreprocessTicks, model.InferenceTicks, model.DecodeTicks,
                        processor.PoseTicks, processor.PublishTicks, GC.GetAllocatedBytesForCurrentThread());
                    Interlocked.Exchange(ref _stagesLogged, frames + 1);
                }

                last = now;
                frames++;
                capture += (t1 - t0) * tick;
                det += processor.DetectTicks * tick;
                pre += model.PreprocessTicks * tick;
                inf += model.InferenceTicks * tick;
                dec += model.DecodeTicks * tick;
                pose += (processor.PoseTicks + processor.PublishTicks) * tick;
                total += (t2 - t0) * tick;
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

    private void Fault(string reason)
    {
        FaultReason = reason;
        _status = TrackerStatus.Faulted;
    }
}
