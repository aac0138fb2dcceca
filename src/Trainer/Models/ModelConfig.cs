using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using HeadTracking.Runtime.Contract;

namespace HeadTracking.Trainer.Models;

/// <summary>One head of a model: its kind and the settings that kind uses.</summary>
internal sealed record HeadConfig
{
    /// <summary>center, keypoints, box, pose, class, mask, value.</summary>
    public string Kind { get; init; } = "";

    /// <summary>Output name; defaults to the kind.</summary>
    public string? Name { get; init; }

    /// <summary>center and keypoints: the output range (fastai's y_range).</summary>
    public float[]? YRange { get; init; }

    /// <summary>keypoints: one name per point (default: BlazeFace's six).</summary>
    public string[]? KeypointNames { get; init; }

    /// <summary>class: the class names; mask: one name per mask code when it segments several
    /// classes (softmax over channels; absent: one channel, head or not).</summary>
    public string[]? ClassNames { get; init; }

    /// <summary>value: one name per continuous value.</summary>
    public string[]? ValueNames { get; init; }

    /// <summary>value: the training targets' mean and standard deviation per value: the head
    /// learns in standardised units and outputs the targets' own.</summary>
    public float[]? ValueMean { get; init; }

    public float[]? ValueStd { get; init; }

    /// <summary>class: several labels may hold at once.</summary>
    public bool MultiLabel { get; init; }

    /// <summary>mask, and value with the density locator: decoder width.</summary>
    public int? Width { get; init; }

    /// <summary>center and keypoints: "regress" (default; a fully connected layer on the deepest
    /// map), "heatmap" (soft-argmax over heat maps at <see cref="Stride"/>, default 8) or "anchor"
    /// (BlazeFace's anchors, scores and offsets, averaged by the scores' softmax). value:
    /// "pooled" (default; fastai's pooled head) or "density" (the sum of a per-pixel density map).
    /// pose: "regress" (default; a fully connected layer on the deepest map) or "anchor" (a rotation
    /// per anchor, averaged by the scores' softmax: <see cref="Heads.AnchorPoseHead"/>).</summary>
    public string? Locator { get; init; }

    /// <summary>mask: the finest feature stride the decoder reaches (default: the backbone's
    /// finest); from there the logits are upsampled bilinearly to the input size. 4 costs a
    /// fraction of 2 on BlazeFace.</summary>
    public int? Stride { get; init; }

    /// <summary>pose: "ray" (the rotation relative to the ray through the head centre: what a crop
    /// around the head can see) or "camera" (in the camera's axes; null: camera, as models made
    /// before the ray frame).</summary>
    public string? Frame { get; init; }

    /// <summary>pose with the anchor locator: trainable residual blocks on each anchor map before the
    /// rotation layers (<see cref="Heads.AnchorPoseHead"/>; <c>--pose-blocks</c>). Absent: none.</summary>
    public int? Blocks { get; init; }

    [JsonIgnore]
    public string OutputName => Name ?? Kind;

    /// <summary>A head of <paramref name="kind"/> from command-line choices: each only reaches the
    /// kinds it applies to (classes to class, stride and width to mask, locator to center and keypoints).</summary>
    /// <param name="maskCodes">Segmentation codes: a mask head then has one channel per code.</param>
    /// <param name="values">Value names, with the targets' mean and std.</param>
    /// <param name="valueLocator">value: "pooled" or "density" (null: pooled).</param>
    /// <param name="poseLocator">pose: "regress" or "anchor" (null: regress).</param>
    /// <param name="poseBlocks">pose with the anchor locator: residual blocks before its rotation layers (0: none).</param>
    public static HeadConfig Of(string kind, string[]? classes = null, bool multiLabel = false, int? maskStride = null, int? maskWidth = null, string? locator = null,
        string[]? maskCodes = null, (string[] Names, float[] Mean, float[] Std)? values = null, float[]? yRange = null, string? valueLocator = null, string? poseFrame = null, string? poseLocator = null, int poseBlocks = 0) => new()
    {
        Frame = kind == OutputKinds.Pose ? poseFrame ?? "ray" : null,
        Kind = kind,
        ClassNames = kind == OutputKinds.Class ? classes : kind == OutputKinds.Mask && maskCodes is { Length: > 0 } ? maskCodes : null,
        ValueNames = kind == OutputKinds.Value ? values?.Names : null,
        ValueMean = kind == OutputKinds.Value ? values?.Mean : null,
        ValueStd = kind == OutputKinds.Value ? values?.Std : null,
        YRange = kind is OutputKinds.CenterHead or OutputKinds.Keypoints or OutputKinds.Value ? yRange : null,
        MultiLabel = kind == OutputKinds.Class && multiLabel,
        Stride = kind == OutputKinds.Mask ? maskStride : null,
        Width = kind == OutputKinds.Mask || (kind == OutputKinds.Value && valueLocator == "density") ? maskWidth : null,
        Locator = kind is OutputKinds.CenterHead or OutputKinds.Keypoints ? locator
            : kind == OutputKinds.Value && valueLocator == "density" ? valueLocator
            : kind == OutputKinds.Pose && poseLocator == "anchor" ? poseLocator
            : null,
        Blocks = kind == OutputKinds.Pose && poseLocator == "anchor" && poseBlocks > 0 ? poseBlocks : null,
    };
}

/// <summary>
/// Everything needed to rebuild a model's architecture: backbone, input size and heads. Saved
/// beside the weights in every checkpoint and written into the exported model's manifest.
/// </summary>
internal sealed record ModelConfig
{
    public static string[] HeadKinds => Models.Heads.Kinds.HeadKinds.Names;

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    public string Name { get; init; } = "headtracker";

    public string Backbone { get; init; } = "blazeface";

    /// <summary>Square input size; 0 means the backbone's default.</summary>
    public int InputSize { get; init; }

    public List<HeadConfig> Heads { get; init; } = [];

    /// <summary>Trunk width of the point, box and pose heads.</summary>
    public int TrunkReduced { get; init; } = 16;

    public int TrunkHidden { get; init; } = 128;

    /// <summary>BlazeFace's keypoint path stays as imported and never trains: the keypoint head
    /// (BlazeFace's own detector layers, locator "anchor") reads a copy of the backbone's blocks
    /// after stride <see cref="KeepKeypointsFrom"/> (<see cref="KeptKeypointPath"/>), and the stem and
    /// the blocks before stay frozen; the other heads learn on the backbone's own later blocks.
    /// Absent: false.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool KeepKeypoints { get; init; }

    /// <summary>With <see cref="KeepKeypoints"/>: the stride of the backbone's feature map after which
    /// the kept copy starts, 4 or 8 (<see cref="KeptKeypointPath.Strides"/>). Absent (0): 4.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int KeepKeypointsFrom { get; init; }

    /// <summary>The stride the kept keypoint path starts after (<see cref="KeepKeypointsFrom"/>, its default filled in).</summary>
    [JsonIgnore]
    public int KeptAfterStride => KeepKeypointsFrom is 0 ? KeptKeypointPath.Strides[0] : KeepKeypointsFrom;

    /// <summary>With <see cref="KeepKeypoints"/>: the backbone's own blocks also feed a second
    /// keypoint head, built like the kept one and starting from the same layers, which learns from
    /// the keypoint labels during training and is left out of the export
    /// (<see cref="MultiHeadNet.Guide"/>), so the blocks the other heads read still learn where the
    /// face's points are. Absent: false.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool GuideKeypoints { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    /// <exception cref="InvalidDataException">Not valid JSON, or a field is wrong; the message
    /// names the source and the field.</exception>
    public static ModelConfig FromJson(string json, string source)
    {
        ModelConfig? c;
        try
        {
            c = JsonSerializer.Deserialize<ModelConfig>(json, s_json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not a model config: {e.Message}", e);
        }

        if (c == null)
        {
            throw new InvalidDataException($"{source}: empty model config");
        }

        c.Validate(source);
        return c;
    }

    /// <exception cref="InvalidDataException">A field is wrong; the message names it.</exception>
    public void Validate(string source)
    {
        if (!Backbones.BackboneRegistry.Names.Contains(Backbone))
        {
            throw new InvalidDataException($"{source}: backbone '{Backbone}' is not one of: {string.Join(", ", Backbones.BackboneRegistry.Names)}");
        }

        if (Heads.Count == 0)
        {
            throw new InvalidDataException($"{source}: heads: a model needs at least one head");
        }

        foreach (HeadConfig h in Heads)
        {
            if (!HeadKinds.Contains(h.Kind))
            {
                throw new InvalidDataException($"{source}: heads: kind '{h.Kind}' is not one of: {string.Join(", ", HeadKinds)}");
            }

            if (h.Kind == OutputKinds.Class && (h.ClassNames == null || h.ClassNames.Length == 0))
            {
                throw new InvalidDataException($"{source}: heads: the class head '{h.OutputName}' needs class_names");
            }

            if (h.Kind == OutputKinds.Value && (h.ValueNames == null || h.ValueNames.Length == 0))
            {
                throw new InvalidDataException($"{source}: heads: the value head '{h.OutputName}' needs value_names (csv: --value-columns)");
            }

            if (h.Kind == OutputKinds.Mask && h.ClassNames is { Length: < 2 })
            {
                throw new InvalidDataException($"{source}: heads: the mask head '{h.OutputName}' segments {h.ClassNames.Length} class; give none (head or not) or at least 2");
            }

            if (h.Frame is { } frame && !(h.Kind == OutputKinds.Pose && frame is "ray" or "camera"))
            {
                throw new InvalidDataException($"{source}: heads: frame '{frame}' of '{h.OutputName}': only a pose head has a frame, ray or camera");
            }

            if (h.Locator is { } l && !(h.Kind is OutputKinds.CenterHead or OutputKinds.Keypoints ? l is "regress" or "heatmap" or "anchor"
                : h.Kind == OutputKinds.Value ? l is "pooled" or "density"
                : h.Kind == OutputKinds.Pose && l is "regress" or "anchor"))
            {
                throw new InvalidDataException($"{source}: heads: locator '{l}' of '{h.OutputName}': center and keypoints heads take regress, heatmap or anchor, value heads pooled or density, pose heads regress or anchor");
            }

            if (h.Blocks is { } b && !(h.Kind == OutputKinds.Pose && h.Locator == "anchor" && b is > 0 and <= Models.Heads.AnchorPoseHead.MaxBlocks))
            {
                throw new InvalidDataException($"{source}: heads: blocks {b} of '{h.OutputName}': only a pose head with the anchor locator has blocks, 1 to {Models.Heads.AnchorPoseHead.MaxBlocks}");
            }

            if (h.YRange is { } r && (r.Length != 2 || !(r[1] > r[0])))
            {
                throw new InvalidDataException($"{source}: heads: y_range of '{h.OutputName}' must be [low, high] with low < high");
            }
        }

        var duplicate = Heads.GroupBy(h => h.OutputName).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null)
        {
            throw new InvalidDataException($"{source}: heads: two heads are named '{duplicate.Key}'");
        }

        if (KeepKeypointsFrom != 0 && (!KeepKeypoints || !KeptKeypointPath.Strides.Contains(KeepKeypointsFrom)))
        {
            throw new InvalidDataException($"{source}: keep_keypoints_from (--keep-from) is {KeepKeypointsFrom}: it needs keep_keypoints (--keep-keypoints) and is one of the strides {string.Join(", ", KeptKeypointPath.Strides)}");
        }

        if (GuideKeypoints && !KeepKeypoints)
        {
            throw new InvalidDataException($"{source}: guide_keypoints (--guide-keypoints) trains a second keypoint head beside the kept one: it needs keep_keypoints (--keep-keypoints)");
        }
    }
}
