using System;
using System.Collections.Generic;
using HeadTracking.Runtime.Models;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Models.Heads;

/// <summary>
/// A task head: reads the backbone's feature maps (finest first) and produces one output tensor,
/// which is also exactly what the exported model outputs under <see cref="OutputName"/>.
/// </summary>
internal abstract class Head : Module<Tensor[], Tensor>, IOnnxExportable
{
    protected Head(string name)
        : base(name)
    {
    }

    /// <summary>The ONNX output name and the key of this head in the model.</summary>
    public abstract string OutputName { get; }

    /// <summary>This output's entry in the model manifest.</summary>
    public abstract ManifestOutput Describe();

    public abstract string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs);

    /// <summary>Whether the head starts pretrained with the backbone (its layers come from the same
    /// pretrained network): it then learns with the backbone's last layers and is frozen with it.</summary>
    public virtual bool PartOfBody => false;

    /// <summary>Whether the head also reads the model's input: then forward and
    /// <see cref="EmitOnnx"/> get it first, before the feature maps.</summary>
    public virtual bool TakesInput => false;
}

/// <summary>
/// A head that regresses numbers through a <see cref="SpatialTrunk"/> on the deepest feature map
/// and one linear layer; subclasses shape and squash the raw outputs. Its state_dict names are
/// "trunk.*" and "output.*".
/// </summary>
internal abstract class TrunkHead : Head
{
#pragma warning disable SA1401, IDE1006 // TorchSharp names parameters after these fields.
    protected readonly SpatialTrunk trunk;
    protected readonly Linear output;
#pragma warning restore SA1401, IDE1006

    protected TrunkHead(string typeName, string name, Backbone backbone, int outputs, TrunkSize? size)
        : base(typeName)
    {
        size ??= new TrunkSize();
        OutputName = name;
        trunk = new SpatialTrunk(backbone.Features[^1], backbone.Preprocessing.Height, size.Reduced, size.Hidden);
        output = Linear(size.Hidden, outputs);
        RegisterComponents();
    }

    public override string OutputName { get; }

    /// <summary>The linear layer's output [N, outputs].</summary>
    protected Tensor Raw(Tensor[] features) => output.forward(trunk.forward(features[^1]));

    /// <summary>Emits <see cref="Raw"/>; returns its value name.</summary>
    protected string EmitRaw(OnnxGraphBuilder g, string[] inputs) => g.Emit(output, g.Emit(trunk, inputs[^1], nameof(trunk)), nameof(output));
}

/// <summary>
/// Keeps where things are: a 1x1 conv squeezes the deepest feature map to a few channels, which
/// are flattened (so position survives, unlike global pooling) into a hidden layer.
/// </summary>
internal sealed class SpatialTrunk : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Conv2d reduce;
    private readonly BatchNorm2d bn;
    private readonly Linear fc;

    public SpatialTrunk(FeatureInfo feature, int inputSize, int reduced, int hidden)
        : base(nameof(SpatialTrunk))
    {
        int cells = inputSize / feature.Stride;
        if (cells < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(inputSize), $"input {inputSize} is smaller than the feature stride {feature.Stride}");
        }

        reduce = Conv2d(feature.Channels, reduced, 1, bias: false);
        bn = BatchNorm2d(reduced);
        fc = Linear(reduced * cells * cells, hidden);
        Hidden = hidden;
        RegisterComponents();
    }

    public int Hidden { get; }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor h = functional.relu(bn.forward(reduce.forward(x))).flatten(1);
        return functional.relu(fc.forward(h)).MoveToOuterDisposeScope();
    }

    public string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string h = g.Node("Relu", [ConvBn.Emit(g, reduce, nameof(reduce), bn, nameof(bn), inputs[0])]);
        h = g.Node("Flatten", [h], OnnxGraphBuilder.Attr("axis", 1L));
        return [g.Node("Relu", [g.Emit(fc, h, nameof(fc))])];
    }
}

/// <summary>Head sizes: trunk channels after the 1x1 squeeze, and its hidden width.</summary>
internal sealed record TrunkSize(int Reduced = 16, int Hidden = 128);

/// <summary>Describes the coordinate frame of point-like outputs, for the manifest.</summary>
internal static class Coordinates
{
    /// <summary>Points: -1 and 1 are the model input's edges whatever the head's value range
    /// (a range wider than [-1, 1] reaches past them); the range is the manifest's <c>range</c>.</summary>
    public static string Normalized(float lo, float hi) =>
        FormattableString.Invariant($"normalized [-1,1] over the model input (after letterboxing), x to the right, y down; values in [{lo:0.###},{hi:0.###}]");

}
