using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using HeadTracking.Demo.Rendering;
using HeadTracking.Runtime;
using OpenCvSharp;
using Silk.NET.OpenGL;

namespace HeadTracking.Demo;

/// <summary>
/// The demo's state between the tracker and the screen: starts the tracker on the chosen source
/// (its worker thread runs capture and inference), and on each render takes the newest frame and
/// result, builds the HUD and draws them. Rendering never waits for inference. Use on the GL thread.
/// </summary>
internal sealed class DemoApp : IDisposable
{
    private readonly HeadTracker _tracker;
    private SceneRenderer? _renderer;
    private readonly Mat _frame = new();
    private CameraFrame? _copied;
    private Mat _hud = new();
    private Mat? _labels;
    private TrackingResult? _result, _spareResult;
    private long _shownSequence;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private double _lastRender, _fps, _renderMs;
    private long _lastCount;
    private double _countAt;

    /// <param name="options">The command line.</param>
    /// <param name="lockstep">Headless over a file: frames pass one at a time (<see cref="HeadTrackerOptions.StepFrames"/>).</param>
    /// <param name="log">Where to say what runs.</param>
    public DemoApp(DemoOptions options, bool lockstep, TextWriter log)
    {
        Options = options;
        string model = options.Model ?? ExternalData.FindShipped(Path.Combine("models", "headtracker-default.onnx"))
            ?? throw new FileNotFoundException("no model: models/headtracker-default.onnx is not there; pass --model FILE.onnx (one from headtracker-train train)");
        string? detector = options.NoDetector ? null : options.Detector ?? ExternalData.Find(Path.Combine("blazeface", "face_detection_front_128x128_barracuda.onnx"));
        var trackerOptions = new HeadTrackerOptions
        {
            ModelPath = model,
            DetectorPath = detector,
            RecordPath = options.Results,
            OpentrackHost = options.Udp?.Host,
            OpentrackPort = options.Udp?.Port ?? 4242,
            HorizontalFovDegrees = options.Fov,
            Filter = options.Filter,
            CameraIndex = options.Camera ?? 0,
            VideoPath = options.Video,
            ImageFolder = options.Images,
            LoopVideo = false,
            PaceVideo = !options.Headless && !lockstep,
            KeepFrames = true, // the picture under the keypoints
        };
        if (options.Video == null && options.Images == null && options.Camera == null && !HeadTracker.CameraExists(0))
        {
            trackerOptions.VideoPath = ExternalData.Find(Path.Combine("samples", "demo", "video.avi"));
            log.WriteLine($"No camera found: showing the bundled sample video ({trackerOptions.VideoPath}).");
        }

        // Headless over a file, frames pass one at a time: each is drawn before the next is read.
        Stepping = trackerOptions.StepFrames = lockstep && (trackerOptions.VideoPath != null || trackerOptions.ImageFolder != null);
        _tracker = new HeadTracker(trackerOptions);
        try
        {
            _tracker.Start();
            Source = _tracker.Source ?? "";
        }
        catch
        {
            _tracker.Dispose();
            throw;
        }

        log.WriteLine($"Source:   {Source}");
        log.WriteLine($"Model:    {model}");
        log.WriteLine($"Detector: {detector ?? "none (the model sees the whole frame)"}");
        log.WriteLine($"Runtime:  ONNX Runtime on {_tracker.ExecutionProvider?.Name}");
        if (options.Results != null)
        {
            log.WriteLine($"Results:  {Path.GetFullPath(options.Results)} (a JSON line per frame)");
        }

        if (options.Udp is { } udp)
        {
            log.WriteLine($"opentrack: UDP to {udp.Host}:{udp.Port}");
        }
    }

    public DemoOptions Options { get; }

    /// <summary>Size of the frames shown (0 before the first).</summary>
    public (int Width, int Height) FrameSize => (_frame.Width, _frame.Height);

    /// <summary>The size to draw at: <see cref="DemoOptions.Width"/> wide at most (never wider
    /// than the frame), with the frame's aspect ratio.</summary>
    public (int Width, int Height) PictureSize
    {
        get
        {
            int width = Math.Min(Options.Width, _frame.Width);
            return (width, Math.Max(1, (int)Math.Round(_frame.Height * (double)width / _frame.Width)));
        }
    }

    /// <summary>Makes the renderer for the GL context current on this thread.</summary>
    public void Attach(GL gl, TextWriter log)
    {
        _renderer = new SceneRenderer(gl);
        log.WriteLine($"Render:   {gl.GetStringS(StringName.Renderer)}");
    }

    /// <summary>Releases the renderer's GL objects while their context is still current.</summary>
    public void Detach()
    {
        _renderer?.Dispose();
        _renderer = null;
    }

    /// <summary>Lets the next frame in (lockstep) and waits until its result is shown, the source
    /// ends, or the tracker faults. Returns false at the end.</summary>
    /// <exception cref="InvalidOperationException">The tracker faulted; the message says why.</exception>
    public bool Next(TimeSpan timeout)
    {
        if (Stepping)
        {
            _tracker.Step();
        }

        var clock = Stopwatch.StartNew();
        while (!Update())
        {
            if (_tracker.Status == TrackerStatus.Faulted)
            {
                throw new InvalidOperationException($"the tracker stopped: {_tracker.FaultReason}");
            }

            if (_tracker.Status == TrackerStatus.Stopped)
            {
                return Update(); // the last frame may have landed just before the end
            }

            if (clock.Elapsed > timeout)
            {
                throw new IOException($"{Source}: no frame in {timeout.TotalSeconds:F0} s");
            }

            System.Threading.Thread.Sleep(1);
        }

        return true;
    }
    public string Source { get; private set; } = "";

    public SceneFlags Flags { get; } = new();

    /// <summary>Set when frames pass one at a time (<see cref="Next"/> steps the tracker).</summary>
    public bool Stepping { get; }

    public HeadTracker Tracker => _tracker;

    /// <summary>Freezes the picture (the tracker goes on).</summary>
    public bool Paused { get; set; }

    /// <summary>Sequence number of the result on screen (0 before the first).</summary>
    public long ShownSequence => _shownSequence;

    /// <summary>The result on screen, or null before the first.</summary>
    public TrackingResult? Shown => _shownSequence > 0 ? _result : null;

    /// <summary>Milliseconds the last <see cref="Render"/> took on the CPU side (GL calls issued).</summary>
    public double RenderMilliseconds => _renderMs;

    /// <summary>Takes the newest frame and result when there are newer ones (unless paused);
    /// returns whether the picture changed.</summary>
    public bool Update()
    {
        if (Paused)
        {
            return false;
        }

        // Into spares first: the frame and result on screen change only as a matching pair.
        if (!_tracker.TryGetLatestFrame(ref _copied) || _copied.Sequence == _shownSequence)
        {
            return false;
        }

        long sequence = _copied.Sequence;

        // The result may already be a frame ahead of the frame copied: then wait for the next pair.
        _tracker.TryGetLatest(ref _spareResult);
        if (_spareResult!.Sequence != sequence)
        {
            return false;
        }

        _frame.Create(_copied.Height, _copied.Width, MatType.CV_8UC3);
        Marshal.Copy(_copied.PixelsBgr, 0, _frame.Data, _copied.Width * _copied.Height * 3);
        (_result, _spareResult) = (_spareResult, _result);
        _shownSequence = sequence;
        return true;
    }

    /// <summary>Draws the newest frame and result into the current framebuffer.</summary>
    public void Render(int width, int height)
    {
        if (_frame.Empty())
        {
            return;
        }

        long t0 = Stopwatch.GetTimestamp();
        double now = _clock.Elapsed.TotalSeconds;
        if (now - _countAt >= 1)
        {
            _fps = (_shownSequence - _lastCount) / (now - _countAt);
            (_lastCount, _countAt) = (_shownSequence, now);
        }

        DrawHud(now - _lastRender);
        _lastRender = now;
        Mat? labels = Flags.Names && Shown is { Valid: true } ? DrawLabels(width, height) : null;
        (_renderer ?? throw new InvalidOperationException("Attach a GL context first")).Draw(_frame, Shown, Flags, _hud, labels, width, height);
        _renderMs = (Stopwatch.GetTimestamp() - t0) * 1000.0 / Stopwatch.Frequency;
    }

    /// <summary>Handles a key: R recentre, F filter, M mask, K keypoints, N names, Space pause.</summary>
    public void Key(int key)
    {
        switch (key)
        {
            case GlfwWindow.KeyR: _tracker.Recenter(); break;
            case GlfwWindow.KeyF: Flags.Filtered = !Flags.Filtered; break;
            case GlfwWindow.KeyM: Flags.Mask = !Flags.Mask; break;
            case GlfwWindow.KeyK: Flags.Keypoints = !Flags.Keypoints; break;
            case GlfwWindow.KeyN: Flags.Names = !Flags.Names; break;
            case GlfwWindow.KeySpace: Paused = !Paused; break;
        }
    }

    public void Dispose()
    {
        _tracker.Dispose();
        _renderer?.Dispose();
        _frame.Dispose();
        _hud.Dispose();
        _labels?.Dispose();
    }

    private void DrawHud(double frameSeconds)
    {
        StageTimes t = _tracker.StageMilliseconds;
        TrackingResult? r = Shown;
        HeadPose p = r == null ? default : Flags.Filtered ? r.Filtered : r.Raw;
        string provider = _tracker.ExecutionProvider?.Name ?? "?";
        var c = CultureInfo.InvariantCulture;
        string[] lines =
        [
            string.Format(c, "{0:F1} fps tracked, {1:F0} fps drawn   {2} on {3}{4}", _fps, frameSeconds > 0 ? 1 / frameSeconds : 0, _tracker.Status, provider, Paused ? "   PAUSED" : ""),
            string.Format(c, "ms: cap {0:F1} det {1:F1} pre {2:F1} inf {3:F1} dec {4:F1} pose {5:F1} draw {6:F1}", t.Capture, t.Detect, t.Preprocess, t.Inference, t.Decode, t.Pose, _renderMs),
            string.Format(c, "{0}: yaw {1,6:F1} pitch {2,6:F1} roll {3,6:F1} deg", Flags.Filtered ? "filtered" : "raw     ", p.Yaw, p.Pitch, p.Roll),
            string.Format(c, "x {0,6:F1} y {1,6:F1} z {2,6:F1} cm   score {3:F2}", p.X, p.Y, p.Z, r?.Score ?? 0),
            "R recentre  F filter  M mask  K points  N names  Space pause  Esc quit",
        ];
        // The HUD fits the picture: 560 pixels wide at most, its text scaled with it.
        int width = Math.Min(560, PictureSize.Width);
        double scale = width / 560.0;
        int lineHeight = (int)Math.Round(21 * scale);
        if (_hud.Width != width)
        {
            _hud.Dispose();
            _hud = new Mat((lineHeight * lines.Length) + (int)Math.Round(8 * scale), width, MatType.CV_8UC4);
        }

        _hud.SetTo(new Scalar(0, 0, 0, 150));
        for (int i = 0; i < lines.Length; i++)
        {
            _hud.PutText(lines[i], new Point(8 * scale, (18 * scale) + (i * lineHeight)), HersheyFonts.HersheySimplex, 0.45 * scale, new Scalar(255, 255, 255, 255), 1, LineTypes.AntiAlias);
        }
    }

    private Mat DrawLabels(int width, int height)
    {
        if (_labels == null || _labels.Width != width || _labels.Height != height)
        {
            _labels?.Dispose();
            _labels = new Mat(height, width, MatType.CV_8UC4);
        }

        _labels.SetTo(Scalar.All(0));
        TrackingResult r = Shown!;
        double sx = (double)width / _frame.Width, sy = (double)height / _frame.Height;
        for (int k = 0; k + 1 < r.Keypoints.Length && k / 2 < _tracker.KeypointNames.Length; k += 2)
        {
            var at = new Point((r.Keypoints[k] * sx) + 6, (r.Keypoints[k + 1] * sy) - 6);
            _labels.PutText(_tracker.KeypointNames[k / 2], at, HersheyFonts.HersheySimplex, 0.4, new Scalar(255, 255, 255, 255), 1, LineTypes.AntiAlias);
        }

        return _labels;
    }
}
