using System;

namespace HeadTracking.Runtime;

/// <summary>A head pose: position in centimetres (camera axes: x right, y down, z away from the
/// camera) and yaw, pitch, roll in degrees (yaw &gt; 0 turns toward the image's left, pitch &gt; 0
/// looks down, roll &gt; 0 turns clockwise in the image).</summary>
public struct HeadPose
{
    /// <summary>Right of the camera's axis, cm.</summary>
    public double X;

    /// <summary>Below the camera's axis, cm.</summary>
    public double Y;

    /// <summary>Distance from the camera, cm.</summary>
    public double Z;

    /// <summary>Degrees.</summary>
    public double Yaw;

    /// <summary>Degrees.</summary>
    public double Pitch;

    /// <summary>Degrees.</summary>
    public double Roll;

    /// <summary>Writes the rotation as a 3x3 matrix, row-major, into <paramref name="matrix"/> (9
    /// values): R = Ry(yaw) Rx(pitch) Rz(roll) in the camera's axes (x right, y down, z away from
    /// the camera); its columns are the head's own axes (x toward its left ear, y down, z toward
    /// the back of the head), so a face looking straight into the camera is the identity.</summary>
    /// <exception cref="ArgumentException"><paramref name="matrix"/> holds fewer than 9 values.</exception>
    public readonly void RotationMatrix(Span<double> matrix)
    {
        if (matrix.Length < 9)
        {
            throw new ArgumentException($"a rotation matrix needs 9 values, got {matrix.Length}", nameof(matrix));
        }

        Pose.Rotation.FromEuler(Yaw, Pitch, Roll, matrix);
    }
}

/// <summary>
/// The tracker's view of one frame. The caller owns an instance and passes it to
/// <see cref="HeadTracker.TryGetLatest"/>, which overwrites it in place (its arrays included), so
/// a game can read results every frame without allocating. Not thread-safe: one per reader.
/// </summary>
public sealed class TrackingResult
{
    /// <summary>Counts processed frames from 1; 0 means no result yet.</summary>
    public long Sequence { get; internal set; }

    /// <summary>Seconds since <see cref="HeadTracker.Start"/> when the frame was captured.</summary>
    public double Timestamp { get; internal set; }

    /// <summary>True when a head was found with at least the minimum score.</summary>
    public bool Valid { get; internal set; }

    /// <summary>Face probability from the model (1 when the model has no score).</summary>
    public float Score { get; internal set; }

    /// <summary>Head centre in frame pixels.</summary>
    public float CenterX { get; internal set; }

    /// <summary>Head centre in frame pixels.</summary>
    public float CenterY { get; internal set; }

    /// <summary>Face box in frame pixels: x0, y0, x1, y1 (zeros without a box head).</summary>
    public float[] Box { get; } = new float[4];

    /// <summary>Keypoints in frame pixels, (x, y) pairs in the model's order (BlazeFace's:
    /// right eye, left eye, nose tip, mouth, right ear, left ear). Empty without a keypoint head.</summary>
    public float[] Keypoints { get; internal set; } = [];

    /// <summary>Head mask (255 = head, 0 = not), <see cref="MaskWidth"/> x <see cref="MaskHeight"/>,
    /// rows top first, covering <see cref="MaskRegion"/> of the frame. Empty without a mask head.</summary>
    public byte[] Mask { get; internal set; } = [];

    /// <summary>Mask width in cells.</summary>
    public int MaskWidth { get; internal set; }

    /// <summary>Mask height in cells.</summary>
    public int MaskHeight { get; internal set; }

    /// <summary>The frame region the mask covers: x0, y0, x1, y1 in frame pixels (it may reach
    /// beyond the frame).</summary>
    public float[] MaskRegion { get; } = new float[4];

    /// <summary>Frame width in pixels.</summary>
    public int FrameWidth { get; internal set; }

    /// <summary>Frame height in pixels.</summary>
    public int FrameHeight { get; internal set; }

    /// <summary>The pose as measured this frame, relative to the last <see cref="HeadTracker.Recenter"/>.</summary>
    public HeadPose Raw { get; internal set; }

    /// <summary>The smoothed pose: what a game should use.</summary>
    public HeadPose Filtered { get; internal set; }

    /// <summary>Copies everything from <paramref name="other"/>, reusing this instance's arrays
    /// when their size fits.</summary>
    internal void CopyFrom(TrackingResult other)
    {
        Sequence = other.Sequence;
        Timestamp = other.Timestamp;
        Valid = other.Valid;
        Score = other.Score;
        CenterX = other.CenterX;
        CenterY = other.CenterY;
        Array.Copy(other.Box, Box, 4);
        if (Keypoints.Length != other.Keypoints.Length)
        {
            Keypoints = new float[other.Keypoints.Length];
        }

        Array.Copy(other.Keypoints, Keypoints, Keypoints.Length);
        if (Mask.Length != other.Mask.Length)
        {
            Mask = new byte[other.Mask.Length];
        }

        Array.Copy(other.Mask, Mask, Mask.Length);
        MaskWidth = other.MaskWidth;
        MaskHeight = other.MaskHeight;
        Array.Copy(other.MaskRegion, MaskRegion, 4);
        FrameWidth = other.FrameWidth;
        FrameHeight = other.FrameHeight;
        Raw = other.Raw;
        Filtered = other.Filtered;
    }
}
