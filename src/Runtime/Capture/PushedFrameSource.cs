using System;
using System.Threading;
using OpenCvSharp;

namespace HeadTracking.Runtime.Capture;

/// <summary>
/// Frames the host hands over (a game engine's own camera texture, as RGBA bytes). The host's
/// <see cref="Push"/> copies into a staging buffer and returns at once; the worker's
/// <see cref="Read"/> takes the newest frame, waiting at most <see cref="Timeout"/> for one
/// (then reports no frame, like a camera that stopped). Frames pushed faster than they are
/// processed replace each other: only the newest is tracked.
/// </summary>
internal sealed class PushedFrameSource : IFrameSource
{
    private readonly object _gate = new();
    private readonly AutoResetEvent _arrived = new(false);
    private Mat _staging = new();
    private bool _fresh;
    private bool _disposed;

    public bool Live => true;

    public string Description => "frames pushed by the host";

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <exception cref="ArgumentException">The byte count is not width x height x 4.</exception>
    public void Push(ReadOnlySpan<byte> rgba, int width, int height)
    {
        if (width <= 0 || height <= 0 || rgba.Length != width * height * 4)
        {
            throw new ArgumentException($"a pushed frame of {width}x{height} RGBA needs {Math.Max(0, width * height * 4)} bytes, got {rgba.Length}", nameof(rgba));
        }

        lock (_gate)
        {
            if (_disposed)
            {
                return; // the tracker stopped: frames pushed late are dropped
            }

            if (_staging.Width != width || _staging.Height != height)
            {
                _staging.Dispose();
                _staging = new Mat(height, width, MatType.CV_8UC4);
            }

            unsafe
            {
                rgba.CopyTo(new Span<byte>((void*)_staging.DataPointer, rgba.Length));
            }

            _fresh = true;
            _arrived.Set();
        }
    }

    public bool Read(Mat frame)
    {
        if (!_arrived.WaitOne(Timeout))
        {
            return false;
        }

        lock (_gate)
        {
            if (!_fresh)
            {
                return false;
            }

            Cv2.CvtColor(_staging, frame, ColorConversionCodes.RGBA2BGR);
            _fresh = false;
            return true;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _staging.Dispose();
        }

        _arrived.Dispose();
    }
}
