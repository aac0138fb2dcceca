using System.Text.Json;
using System.Text.Json.Serialization;

namespace HeadTracking.Trainer.Data;

/// <summary>Head orientation and position: angles in degrees (see Runtime.Pose.Rotation for the
/// convention), the rotation matrix row-major, the translation of the head frame's origin in cm.</summary>
internal sealed record PoseLabel(double Yaw, double Pitch, double Roll, double[] Rotation, double[]? Translation);

/// <summary>
/// One labelled image: a line of labels.jsonl. Pixel coordinates have the origin at the image's
/// top-left corner, x right, y down. Every field but image, width and height is optional.
/// </summary>
internal sealed record HeadLabel
{
    /// <summary>The image file, relative to the labels file.</summary>
    public string Image { get; init; } = "";

    public int Width { get; init; }

    public int Height { get; init; }

    /// <summary>synthetic, teacher or import.</summary>
    public string Source { get; init; } = "";

    /// <summary>Who or what the head belongs to, for splits that hold whole identities out.</summary>
    public string? Identity { get; init; }

    /// <summary>train or valid, when the producer decided.</summary>
    public string? Split { get; init; }

    /// <summary>Head centre in pixels.</summary>
    public double[]? Center { get; init; }

    /// <summary>Head centre normalised to [-1, 1] over the image (x: 2x/width - 1).</summary>
    public double[]? CenterNorm { get; init; }

    /// <summary>Per keypoint: x, y in pixels and visibility (1 visible, 0 hidden).</summary>
    public double[][]? Keypoints { get; init; }

    /// <summary>Keypoint names, when not BlazeFace's six.</summary>
    public string[]? KeypointNames { get; init; }

    /// <summary>The dense teacher's 468 landmarks (x, y in pixels, z in pixels at the face's scale,
    /// toward the camera negative), in MediaPipe's face-mesh order.</summary>
    public double[][]? Landmarks { get; init; }

    /// <summary>For dense-teacher labels: degrees between the teacher's pose and its pose on the
    /// mirror image mirrored back, the label's own error bar.</summary>
    public double? TeacherDisagreement { get; init; }

    /// <summary>Face box in pixels: x0, y0, x1, y1.</summary>
    public double[]? Box { get; init; }

    /// <summary>Detector score for teacher labels.</summary>
    public double? Score { get; init; }

    public PoseLabel? Pose { get; init; }

    /// <summary>Camera fx, fy, cx, cy in pixels.</summary>
    public double[]? Intrinsics { get; init; }

    /// <summary>Mask image (8-bit, 255 = head), relative to the labels file.</summary>
    public string? Mask { get; init; }

    /// <summary>Class labels of the image.</summary>
    public string[]? Classes { get; init; }

    /// <summary>Continuous targets for a value head (an age, a count), in the order of the data
    /// set's value names.</summary>
    public double[]? Values { get; init; }

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = false,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}
