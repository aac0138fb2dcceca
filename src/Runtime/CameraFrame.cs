using System;

namespace HeadTracking.Runtime;

/// <summary>
/// A copy of a frame the tracker processed (<see cref="HeadTrackerOptions.KeepFrames"/>), for a
/// camera preview drawn under the head's keypoints and box. Filled by
/// <see cref="HeadTracker.TryGetLatestFrame"/>, which overwrites it in place: its array is reused
/// while the frame size holds, so keep one instance and read it on one thread.
/// </summary>
public sealed class CameraFrame
{
    /// <summary>The <see cref="TrackingResult.Sequence"/> of the result computed from this frame.</summary>
    public long Sequence { get; internal set; }

    /// <summary>Width in pixels.</summary>
    public int Width { get; internal set; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; internal set; }

    /// <summary>8-bit blue, green, red per pixel, rows top to bottom with no padding
    /// (<see cref="Width"/> * <see cref="Height"/> * 3 bytes are used; the array may be longer).</summary>
    public byte[] PixelsBgr { get; internal set; } = [];

    /// <summary>Makes room for a frame of this size (allocates only when the size grows).</summary>
    internal Span<byte> Reshape(int width, int height)
    {
        int bytes = width * height * 3;
        if (PixelsBgr.Length < bytes)
        {
            PixelsBgr = new byte[bytes];
        }

        Width = width;
        Height = height;
        return PixelsBgr.AsSpan(0, bytes);
    }
}
