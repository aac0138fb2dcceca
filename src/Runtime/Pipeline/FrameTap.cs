using System;
using OpenCvSharp;

namespace HeadTracking.Runtime.Pipeline;

/// <summary>
/// For the demo and tools that draw what the tracker saw: once <see cref="Enabled"/>, the worker
/// keeps a copy of each frame it publishes a result for (a memory copy; no allocation while the
/// frame size holds), and any thread copies the newest one out with its result's sequence number.
/// </summary>
internal sealed class FrameTap : IDisposable
{
    private readonly object _lock = new();
    private readonly Mat _frame = new();
    private long _sequence;
    private volatile bool _enabled;

    /// <summary>Whether frames are kept. Set from any thread.</summary>
    public bool Enabled
    {
        get => _enabled;
        set => _enabled = value;
    }

    /// <summary>Worker: keeps a copy of <paramref name="frame"/>, whose result has number
    /// <paramref name="sequence"/>, when enabled.</summary>
    public void Keep(Mat frame, long sequence)
    {
        if (!_enabled)
        {
            return;
        }

        lock (_lock)
        {
            if (_frame.Width != frame.Width || _frame.Height != frame.Height || _frame.Type() != frame.Type())
            {
                _frame.Create(frame.Height, frame.Width, frame.Type());
            }

            CopyPixels(frame, _frame);
            _sequence = sequence;
        }
    }

    /// <summary>Copies the newest kept frame into <paramref name="into"/>; false when there is none
    /// yet. Any thread.</summary>
    public bool CopyLatest(CameraFrame into)
    {
        lock (_lock)
        {
            if (_sequence == 0)
            {
                return false;
            }

            int width = _frame.Width, height = _frame.Height;
            Span<byte> to = into.Reshape(width, height);
            int rowBytes = width * 3;
            for (int y = 0; y < height; y++)
            {
                unsafe
                {
                    new ReadOnlySpan<byte>((byte*)_frame.Ptr(y), rowBytes).CopyTo(to.Slice(y * rowBytes, rowBytes));
                }
            }

            into.Sequence = _sequence;
            return true;
        }
    }

    public void Dispose() => _frame.Dispose();

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
}
