using System;
using System.Threading;
using OpenCvSharp;

namespace HeadTracking.Runtime.Capture;

/// <summary>
/// Lets one frame of a file source through per <see cref="Release"/> (<see cref="HeadTrackerOptions.StepFrames"/>):
/// the host steps the tracker, waits for that frame's result, uses it, and only then lets the next
/// frame in, so a recording is processed frame by frame however fast or slow the host is.
/// </summary>
internal sealed class SteppedFrameSource(IFrameSource inner) : IFrameSource
{
    private readonly SemaphoreSlim _permits = new(0);
    private volatile bool _closed;

    public string Description => inner.Description;

    public bool Live => inner.Live;

    /// <summary>Lets one more frame through.</summary>
    public void Release() => _permits.Release();

    public bool Read(Mat frame)
    {
        while (!_permits.Wait(TimeSpan.FromMilliseconds(100)))
        {
            if (_closed)
            {
                return false;
            }
        }

        return !_closed && inner.Read(frame);
    }

    /// <summary>Ends the stream: the next <see cref="Read"/> returns false.</summary>
    public void Close() => _closed = true;

    public void Dispose()
    {
        // The semaphore stays: the host may still step after the tracker let go.
        _closed = true;
        inner.Dispose();
    }
}
