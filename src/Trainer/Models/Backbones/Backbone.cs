using System.Collections.Generic;
using HeadTracking.Trainer.Onnx;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Models.Backbones;

/// <summary>How a backbone wants its input: size, and value = (pixel * Scale - Mean) / Std, RGB, NCHW.</summary>
internal sealed record Preprocessing(int Height, int Width, float Scale, float[] Mean, float[] Std)
{
    /// <summary>Pixels scaled to [-1, 1] (BlazeFace).</summary>
    public static Preprocessing MinusOneToOne(int size) => new(size, size, 1f / 255f, [0.5f, 0.5f, 0.5f], [0.5f, 0.5f, 0.5f]);

    /// <summary>torchvision's ImageNet normalisation.</summary>
    public static Preprocessing ImageNet(int size) =>
        new(size, size, 1f / 255f, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);
}

/// <summary>One feature map a backbone returns: its channels and its stride from the input.</summary>
internal readonly record struct FeatureInfo(int Channels, int Stride);

/// <summary>
/// A feature extractor: NCHW RGB in, feature maps out from the finest (stride 2) to the deepest,
/// for heads and U-Net decoders. Layer groups, from the input side, are what discriminative
/// learning rates and freezing act on.
/// </summary>
internal abstract class Backbone : Module<Tensor, Tensor[]>, IOnnxExportable
{
    protected Backbone(string name)
        : base(name)
    {
    }

    /// <summary>The registry name, e.g. "resnet18".</summary>
    public abstract string ArchitectureName { get; }

    public abstract Preprocessing Preprocessing { get; }

    /// <summary>The feature maps forward() returns, in the same order.</summary>
    public abstract IReadOnlyList<FeatureInfo> Features { get; }

    /// <summary>Groups of layers from input to output, for discriminative rates.</summary>
    public abstract IReadOnlyList<Module> LayerGroups { get; }

    public abstract string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs);
}
