using System;
using System.Collections.Generic;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Models;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Onnx;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Models.Heads;

/// <summary>Class logits from the deepest features through fastai's pooled head
/// (<see cref="PooledMlp"/>): single-label (softmax) or multi-label (a sigmoid per class).
/// Output [N,C].</summary>
internal sealed class ClassHead : Head
{
    private readonly PooledMlp head;
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
        head = new PooledMlp(backbone.Features[^1].Channels, 256, _classes.Length);
        RegisterComponents();
    }

    public override string OutputName => _name;

    public bool MultiLabel { get; }

    public IReadOnlyList<string> ClassNames => _classes;

    public override Tensor forward(Tensor[] features)
    {
        return head.forward(features[^1]);
    }

    public override ManifestOutput Describe() => new()
    {
        Name = _name,
        Kind = OutputKinds.Class,
        Shape = [-1, _classes.Length],
        Activation = MultiLabel ? "sigmoid" : "softmax",
        MultiLabel = MultiLabel,
        ClassNames = _classes,
    };

    public override string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        return g.Emit(head, [inputs[^1]], nameof(head));
    }
}
