using System;
using System.Collections.Generic;
using System.Linq;
using HeadTracker.Runtime.Models;
using HeadTracker.Trainer.Models.Backbones;
using HeadTracker.Trainer.Onnx;
using static TorchSharp.torch;

namespace HeadTracker.Trainer.Models.Heads;

/// <summary>
/// Continuous targets (an age, a count; any number of scalars) from the deepest features through
/// fastai's pooled head (<see cref="PooledMlp"/>). The last layer works in standardised units and the head maps
/// them back (times the training data's std, plus its mean), so the output, exported or not, is
/// in the targets' own units; with a y_range a sigmoid squashes it into [lo, hi] instead.
/// Output [N,V].
/// </summary>
internal sealed class ValueHead : Head
{
    private readonly PooledMlp head;
    private readonly string _name;
    private readonly string[] _names;
    private readonly float[] _mean, _std;
    private readonly float[]? _range;

    public ValueHead(string name, Backbone backbone, IReadOnlyList<string> valueNames, IReadOnlyList<float>? mean = null, IReadOnlyList<float>? std = null, float[]? range = null, int width = 128)
        : base(nameof(ValueHead))
    {
        if (valueNames.Count < 1)
        {
            throw new ArgumentException("a value head needs at least one value name", nameof(valueNames));
        }

        _name = name;
        _names = [.. valueNames];
        _mean = mean is { } m && m.Count == _names.Length ? [.. m] : new float[_names.Length];
        _std = std is { } s && s.Count == _names.Length ? [.. s.Select(v => v > 0 ? v : 1f)] : [.. Enumerable.Repeat(1f, _names.Length)];
        _range = range;
        head = new PooledMlp(backbone.Features[^1].Channels, width, _names.Length);
        RegisterComponents();
    }

    public override string OutputName => _name;

    public IReadOnlyList<string> ValueNames => _names;

    /// <summary>The std the loss divides errors by, so every value weighs alike.</summary>
    public IReadOnlyList<float> Std => _std;

    public override Tensor forward(Tensor[] features)
    {
        using var scope = NewDisposeScope();
        Tensor raw = head.forward(features[^1]);
        Tensor y = _range is { } r
            ? (raw.sigmoid() * (r[1] - r[0])) + r[0]
            : (raw * tensor(_std)) + tensor(_mean);
        return y.MoveToOuterDisposeScope();
    }

    public override ManifestOutput Describe() => new()
    {
        Name = _name,
        Kind = "value",
        Shape = [-1, _names.Length],
        Activation = "none",
        Range = _range,
        ValueNames = _names,
    };

    public override string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string raw = g.Emit(head, [inputs[^1]], nameof(head)).Single();
        if (_range is { } r)
        {
            string s = g.Node("Sigmoid", [raw]);
            return [g.Node("Add", [g.Node("Mul", [s, g.ConstantFloat([], r[1] - r[0])]), g.ConstantFloat([], r[0])])];
        }

        long[] shape = [_names.Length];
        return [g.Node("Add", [g.Node("Mul", [raw, g.ConstantFloat(shape, _std)]), g.ConstantFloat(shape, _mean)])];
    }
}
