using System;
using System.Threading;
using HeadTracker.Runtime.Capture;
using OpenCvSharp;

namespace HeadTracker.Demo;

/// <summary>
/// Hands the tracker one frame per permit: the headless demo releases a permit, waits for that
/// frame's result, renders it, and only then lets the next frame in, so a file is drawn frame by
/// frame however fast or slow rendering is.
/// </summary>
internal sealed class LockstepSource(IFrameSource inner) : IFrameSource
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
        // The semaphore stays: the demo may still release a permit after the tracker let go.
        _closed = true;
        inner.Dispose();
    }
}
