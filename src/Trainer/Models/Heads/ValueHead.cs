using System;
using System.Collections.Generic;
using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Models;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Onnx;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Models.Heads;

/// <summary>
/// Continuous targets (an age, a count; any number of scalars) from the deepest features through
/// fastai's pooled head (<see cref="PooledMlp"/>). The last layer works in standardised units and the head maps
/// them back (times the training data's std, plus its mean), so the output, exported or not, is
/// in the targets' own units; with a y_range a sigmoid squashes it into [lo, hi] instead.
/// Or, for counts (<c>--value-head density</c>): a U-Net decoder (<see cref="MaskHead"/>) maps
/// every input pixel to a non-negative density (softplus) and the value is its sum over the
/// image, learned from the totals alone. Sums are translation-equivariant, so each object adds
/// the same wherever it lies, which a pooled vector on a stride-16 map cannot give small objects.
/// Output [N,V].
/// </summary>
internal sealed class ValueHead : Head
{
    private readonly PooledMlp? head;
    private readonly MaskHead? map;
    private readonly string _name;
    private readonly string[] _names;
    private readonly float[] _mean, _std;
    private readonly float[]? _range;
    private readonly int _pixels;

    /// <param name="density">Sum a per-pixel density map (decoder width <paramref name="width"/>,
    /// default 32) instead of the pooled head (hidden width default 128).</param>
    public ValueHead(string name, Backbone backbone, IReadOnlyList<string> valueNames, IReadOnlyList<float>? mean = null, IReadOnlyList<float>? std = null, float[]? range = null, bool density = false, int? width = null)
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
        if (density)
        {
            if (range != null)
            {
                throw new ArgumentException("option --y-range: a density value head (--value-head density) sums a non-negative map and takes no range");
            }

            map = new MaskHead(name, backbone, width ?? 32, maps: _names.Length);
            _pixels = backbone.Preprocessing.Height * backbone.Preprocessing.Width;

            // Start where the data is: every pixel's softplus(bias) sums to the mean.
            double perPixel = Math.Max(_mean.Average(), 1e-3) / _pixels;
            map.InitOutputBias((float)Math.Log(Math.Exp(perPixel) - 1));
        }
        else
        {
            head = new PooledMlp(backbone.Features[^1].Channels, width ?? 128, _names.Length);
        }

        RegisterComponents();
    }

    /// <summary>Whether the values are sums of a density map.</summary>
    public bool Density => map != null;

    public override string OutputName => _name;

    public IReadOnlyList<string> ValueNames => _names;

    /// <summary>The std the loss divides errors by, so every value weighs alike.</summary>
    public IReadOnlyList<float> Std => _std;

    public override Tensor forward(Tensor[] features)
    {
        using var scope = NewDisposeScope();
        if (map != null)
        {
            return functional.softplus(map.forward(features)).sum([2, 3]).MoveToOuterDisposeScope();
        }

        Tensor raw = head!.forward(features[^1]);
        Tensor y = _range is { } r
            ? (raw.sigmoid() * (r[1] - r[0])) + r[0]
            : (raw * tensor(_std)) + tensor(_mean);
        return y.MoveToOuterDisposeScope();
    }

    public override ManifestOutput Describe() => new()
    {
        Name = _name,
        Kind = OutputKinds.Value,
        Shape = [-1, _names.Length],
        Activation = "none",
        Coordinates = map != null ? "each value is the sum of a non-negative density over the model input's pixels" : null,
        Range = _range,
        ValueNames = _names,
    };

    public override string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        if (map != null)
        {
            string density = g.Node("Softplus", [g.Emit(map, inputs, nameof(map)).Single()]);
            string mean = g.Node("Flatten", [g.Node("GlobalAveragePool", [density])], OnnxGraphBuilder.Attr("axis", 1L));
            return [g.Node("Mul", [mean, g.ConstantFloat([], _pixels)])];
        }

        string raw = g.Emit(head!, [inputs[^1]], nameof(head)).Single();
        if (_range is { } r)
        {
            string s = g.Node("Sigmoid", [raw]);
            return [g.Node("Add", [g.Node("Mul", [s, g.ConstantFloat([], r[1] - r[0])]), g.ConstantFloat([], r[0])])];
        }

        long[] shape = [_names.Length];
        return [g.Node("Add", [g.Node("Mul", [raw, g.ConstantFloat(shape, _std)]), g.ConstantFloat(shape, _mean)])];
    }
}
