using System;
using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace HeadTracking.Runtime.Models;

/// <summary>
/// The contract a HeadTracker ONNX model carries in its metadata (key <see cref="MetadataKey"/>):
/// what its input expects and what each output means. The runtime reads it and hard-codes nothing.
/// </summary>
internal sealed class ModelManifest
{
    /// <summary>The metadata_props key holding the manifest JSON.</summary>
    public const string MetadataKey = "headtracker.manifest";

    /// <summary>The format tag this code writes and reads.</summary>
    public const string CurrentFormat = "headtracker-model/1";

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = false,
        // Plain '+' and quotes in names and descriptions: the JSON is metadata, never HTML.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public string Format { get; set; } = CurrentFormat;

    /// <summary>A short model name, e.g. "headtracker-default".</summary>
    public string Name { get; set; } = "";

    /// <summary>Backbone and heads, e.g. "blazeface+center+keypoints".</summary>
    public string Architecture { get; set; } = "";

    public ManifestInput Input { get; set; } = new();

    public List<ManifestOutput> Outputs { get; set; } = [];

    /// <summary>How it was trained (free-form key/values), when known.</summary>
    public Dictionary<string, string>? Training { get; set; }

    /// <summary>Measured metrics by name, when known.</summary>
    public Dictionary<string, double>? Metrics { get; set; }

    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    /// <exception cref="FormatException">Not a manifest of a known format; the message says why.</exception>
    public static ModelManifest FromJson(string json)
    {
        ModelManifest? m;
        try
        {
            m = JsonSerializer.Deserialize<ModelManifest>(json, s_json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"model manifest is not valid JSON: {e.Message}", e);
        }

        if (m == null || m.Format != CurrentFormat)
        {
            throw new FormatException($"model manifest format '{m?.Format}' is not '{CurrentFormat}'");
        }

        return m;
    }
}

/// <summary>The model's input tensor and how to fill it from an 8-bit image:
/// value = (pixel * Scale - Mean[c]) / Std[c], channels in <see cref="ColorOrder"/>.</summary>
internal sealed class ManifestInput
{
    public string Name { get; set; } = "input";

    /// <summary>Shape with -1 for the dynamic batch dimension.</summary>
    public long[] Shape { get; set; } = [];

    /// <summary>"NCHW" or "NHWC".</summary>
    public string Layout { get; set; } = "NCHW";

    /// <summary>"RGB" or "BGR".</summary>
    public string ColorOrder { get; set; } = "RGB";

    /// <summary>Multiplies each 0..255 pixel value before the mean is taken away.</summary>
    public float Scale { get; set; } = 1f / 255f;

    public float[] Mean { get; set; } = [0f, 0f, 0f];

    public float[] Std { get; set; } = [1f, 1f, 1f];

    /// <summary>How a frame of another aspect ratio is fitted: "letterbox" (keep aspect, pad), as
    /// <see cref="Contract.InputTransform"/> defines it.</summary>
    public string Resize { get; set; } = Contract.InputTransform.Letterbox;

    /// <summary>How pixels are resampled to the fitted size: "area" (<see cref="Contract.InputTransform"/>);
    /// absent in models written before it was recorded, which are served the same way.</summary>
    public string? Interpolation { get; set; }
}

/// <summary>One output tensor and its meaning.</summary>
internal sealed class ManifestOutput
{
    public string Name { get; set; } = "";

    /// <summary>Shape with -1 for the dynamic batch dimension.</summary>
    public long[] Shape { get; set; } = [];

    /// <summary>point, keypoints, box, pose, class, mask, value, or raw.</summary>
    public string Kind { get; set; } = "";

    /// <summary>How coordinates are expressed, e.g. "normalized [-1,1] over the model input, x right, y down".</summary>
    public string? Coordinates { get; set; }

    /// <summary>Value range of coordinate outputs, e.g. [-1, 1].</summary>
    public float[]? Range { get; set; }

    /// <summary>Activation the consumer applies: "none", "sigmoid", "softmax".</summary>
    public string? Activation { get; set; }

    /// <summary>Meaning of the last axis when it packs several things, e.g. "x0,y0,x1,y1,score_logit".</summary>
    public string? Layout { get; set; }

    /// <summary>For pose: "rotation_matrix" (3x3, rows x, y, z of the head in camera axes).</summary>
    public string? Representation { get; set; }

    /// <summary>For pose: "camera" (absent: the same), the rotation in the camera's axes; or "ray",
    /// relative to the ray through the head centre (a virtual camera looking straight at it), which
    /// the consumer turns into the camera's as Ray(head centre) · R (see Runtime.Pose.Rotation.Ray).</summary>
    public string? Frame { get; set; }

    public string[]? KeypointNames { get; set; }

    /// <summary>For class outputs: one name per class; for a mask of several classes: one name
    /// per channel (the segmentation's codes, channel 0 usually the background).</summary>
    public string[]? ClassNames { get; set; }

    /// <summary>For value outputs: one name per continuous value.</summary>
    public string[]? ValueNames { get; set; }

    /// <summary>For class outputs: several labels may hold at once (sigmoid per class).</summary>
    public bool? MultiLabel { get; set; }
}
