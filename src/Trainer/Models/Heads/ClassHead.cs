using System;
using System.Collections.Generic;
using HeadTracker.Runtime.Models;
using HeadTracker.Trainer.Models.Backbones;
using HeadTracker.Trainer.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracker.Trainer.Models.Heads;

/// <summary>Class logits from globally pooled deepest features: single-label (softmax) or
/// multi-label (a sigmoid per class). Output [N,C].</summary>
internal sealed class ClassHead : Head
{
    private readonly Linear fc;
    private readonly string _name;
    private readonly string[] _classes;

    public ClassHead(string name, Backbone backbone, IReadOnlyList<string> classNames, bool multiLabel)
        : base(nameof(ClassHead))
    {
        if (classNames.Count < 1)
        {
            throw new ArgumentException("a class head needs at least one class name", nameof(classNames));
        }

        _name = name;
        _classes = [.. classNames];
        MultiLabel = multiLabel;
        fc = Linear(backbone.Features[^1].Channels, _classes.Length);
        RegisterComponents();
    }

    public override string OutputName => _name;

    public bool MultiLabel { get; }

    public IReadOnlyList<string> ClassNames => _classes;

    public override Tensor forward(Tensor[] features)
    {
        using var scope = NewDisposeScope();
        return fc.forward(features[^1].mean([2, 3])).MoveToOuterDisposeScope();
    }

    public override ManifestOutput Describe() => new()
    {
        Name = _name,
        Kind = "class",
        Shape = [-1, _classes.Length],
        Activation = MultiLabel ? "sigmoid" : "softmax",
        MultiLabel = MultiLabel,
        ClassNames = _classes,
    };

    public override string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string pooled = g.Node("Flatten", [g.Node("GlobalAveragePool", [inputs[^1]])], OnnxGraphBuilder.Attr("axis", 1L));
        return [g.Emit(fc, pooled, nameof(fc))];
    }
}
