using System;

namespace HeadTracking.Runtime.Detection;

/// <summary>
/// Faces found in one frame, in frame pixels, in buffers allocated once and refilled each frame.
/// Owned by the caller of <see cref="BlazeFaceDetector.Detect"/>; not thread-safe.
/// </summary>
internal sealed class FaceDetections
{
    /// <summary>Keypoints per face, in BlazeFace's order.</summary>
    public const int KeypointCount = 6;


    public FaceDetections(int capacity = 16)
    {
        if (capacity <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), "capacity must be positive");
        }

        Boxes = new float[capacity * 4];
        Scores = new float[capacity];
        Keypoints = new float[capacity * KeypointCount * 2];
    }

    /// <summary>Faces held, best first.</summary>
    public int Count { get; internal set; }

    /// <summary>Most faces held; further ones are dropped.</summary>
    public int Capacity => Scores.Length;

    /// <summary>Per face: left, top, right, bottom.</summary>
    public float[] Boxes { get; }

    /// <summary>Per face: probability in [0, 1].</summary>
    public float[] Scores { get; }

    /// <summary>Per face: <see cref="KeypointCount"/> (x, y) pairs.</summary>
    public float[] Keypoints { get; }
}
