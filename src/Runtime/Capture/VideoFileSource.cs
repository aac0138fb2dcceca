using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using OpenCvSharp;

namespace HeadTracking.Runtime.Capture;

/// <summary>
/// A video file decoded by OpenCV's FFmpeg backend, optionally looping. Paced, it behaves like a
/// camera: frames come at the file's frame rate, and when the reader falls behind the frames it
/// missed are skipped (grabbed, not decoded), so the newest frame is always the one tracked.
/// Unpaced, frames come as fast as they are asked for (tests, benchmarks, offline runs).
/// </summary>
internal sealed class VideoFileSource : IFrameSource
{
    private readonly VideoCapture _capture;
    private readonly bool _loop;
    private readonly bool _paced;
    private readonly Stopwatch _clock = new();
    private long _played; // frames taken from the file since the clock started

    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">OpenCV cannot decode it; the message names the file.</exception>
    public VideoFileSource(string path, bool loop = false, bool paced = false)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"video file not found: {path}", path);
        }

        _capture = new VideoCapture(path);
        if (!_capture.IsOpened() || _capture.FrameWidth <= 0)
        {
            _capture.Dispose();
            throw new InvalidDataException($"{path}: not a video OpenCV can decode");
        }

        _loop = loop;
        if (loop)
        {
            // The first seek allocates a little, once; do it here, not mid-run on the worker.
            Rewind();
        }

        double fps = _capture.Fps;
        FramesPerSecond = fps is > 0 and < 1000 ? fps : 30; // some containers do not say
        _paced = paced;
        Description = $"video {Path.GetFileName(path)} ({_capture.FrameWidth}x{_capture.FrameHeight}, {FramesPerSecond:F0} fps{(paced ? "" : ", unpaced")})";
    }

    public bool Live => false;

    public string Description { get; }

    /// <summary>The frame rate the file declares (30 when it declares none).</summary>
    public double FramesPerSecond { get; }

    /// <summary>Frames skipped so far because the reader fell behind (paced only).</summary>
    public long Skipped { get; private set; }

    public bool Read(Mat frame)
    {
        if (_paced)
        {
            if (!_clock.IsRunning)
            {
                _clock.Start();
            }

            // Frame n is due at n / fps; wait for it, or skip what is already stale.
            double due = _played / FramesPerSecond;
            double now = _clock.Elapsed.TotalSeconds;
            if (due > now)
            {
                Thread.Sleep(TimeSpan.FromSeconds(due - now));
            }
            else
            {
                long behind = (long)((now - due) * FramesPerSecond);
                for (long i = 0; i < behind && Grab(); i++)
                {
                    _played++;
                    Skipped++;
                }
            }
        }

        if (!Next(frame))
        {
            return false;
        }

        _played++;
        return true;
    }

    private bool Grab()
    {
        if (_capture.Grab())
        {
            return true;
        }

        return _loop && Rewind() && _capture.Grab();
    }

    private bool Next(Mat frame)
    {
        if (_capture.Read(frame) && !frame.Empty())
        {
            return true;
        }

        return _loop && Rewind() && _capture.Read(frame) && !frame.Empty();
    }

    private bool Rewind() => _capture.Set(VideoCaptureProperties.PosFrames, 0);

    public void Dispose() => _capture.Dispose();
}
