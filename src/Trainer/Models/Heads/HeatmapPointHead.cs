using System;
using System.Collections.Generic;
using System.Linq;
using HeadTracking.Runtime.Models;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Models.Heads;

/// <summary>
/// Points by soft-argmax (integral regression): a 3x3 conv + BatchNorm + ReLU and a 1x1 conv give
/// one heat map per point on a feature map that still knows where things are (stride 8 by
/// default); a softmax over each map's cells and the expectation of the cell centres give the
/// point. Same outputs as <see cref="PointHead"/> ([N,2] or [N,K,2] in [lo, hi] over the input),
/// so the runtime reads either the same way; the coordinates come from where the features fire
/// rather than from a fully connected layer's memory of positions. State names: conv, bn, output.
/// </summary>
internal sealed class HeatmapPointHead : Head
{
#pragma warning disable IDE1006 // TorchSharp names parameters after these fields.
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;
    private readonly Conv2d output;
#pragma warning restore IDE1006
    private readonly string[]? _keypointNames;
    private readonly float _lo, _hi;
    private readonly int _level, _cellsX, _cellsY;
    private readonly float[] _grid;

    /// <param name="keypointNames">Null for a single point; otherwise one name per keypoint.</param>
    /// <param name="stride">Stride of the feature map the heat maps are made on.</param>
    public HeatmapPointHead(string name, Backbone backbone, IReadOnlyList<string>? keypointNames = null, float lo = -1f, float hi = 1f, int stride = 8, int width = 32)
        : base(nameof(HeatmapPointHead))
    {
        if (!(hi > lo))
        {
            throw new ArgumentOutOfRangeException(nameof(hi), $"y_range [{lo}, {hi}] is empty");
        }

        IReadOnlyList<FeatureInfo> f = backbone.Features;
        _level = -1;
        for (int i = 0; i < f.Count; i++)
        {
            _level = f[i].Stride == stride ? i : _level;
        }

        if (_level < 0)
        {
            throw new ArgumentException($"heat map stride {stride} of '{name}': the backbone's feature strides are {string.Join(", ", f.Select(x => x.Stride))}");
        }

        OutputName = name;
        _keypointNames = keypointNames?.ToArray();
        _lo = lo;
        _hi = hi;
        _cellsX = backbone.Preprocessing.Width / stride;
        _cellsY = backbone.Preprocessing.Height / stride;
        conv = Conv2d(f[_level].Channels, width, 3, padding: 1, bias: false);
        bn = BatchNorm2d(width);
        output = Conv2d(width, Points, 1);

        // Cell centres in output units, row-major like the flattened map: [cells, 2].
        _grid = new float[_cellsX * _cellsY * 2];
        for (int y = 0; y < _cellsY; y++)
        {
            for (int x = 0; x < _cellsX; x++)
            {
                int c = (y * _cellsX) + x;
                _grid[c * 2] = lo + ((hi - lo) * (x + 0.5f) / _cellsX);
                _grid[(c * 2) + 1] = lo + ((hi - lo) * (y + 0.5f) / _cellsY);
            }
        }

        RegisterComponents();
    }

    public override string OutputName { get; }

    /// <summary>How many points it predicts.</summary>
    public int Points => _keypointNames?.Length ?? 1;

    public override Tensor forward(Tensor[] features)
    {
        using var scope = NewDisposeScope();
        Tensor x = features[_level];
        Tensor logits = output.forward(functional.relu(bn.forward(conv.forward(x))));
        Tensor p = logits.reshape(-1, Points, _cellsX * _cellsY).softmax(2);
        Tensor y = p.matmul(tensor(_grid, [_cellsX * _cellsY, 2]).to(x.device));
        return (_keypointNames == null ? y.reshape(-1, 2) : y).MoveToOuterDisposeScope();
    }

    public override ManifestOutput Describe() => PointHead.Manifest(OutputName, _keypointNames, _lo, _hi);

    public override string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string h = g.Node("Relu", [ConvBn.Emit(g, conv, nameof(conv), bn, nameof(bn), inputs[_level])]);
        string logits = g.Emit(output, h, nameof(output));
        int cells = _cellsX * _cellsY;
        string flat = g.Node("Reshape", [logits, g.ConstantInt64(-1, Points, cells)]);
        string p = g.Node("Softmax", [flat], OnnxGraphBuilder.Attr("axis", 2L));
        string y = g.Node("MatMul", [p, g.ConstantFloat([cells, 2], _grid)]);
        return [_keypointNames == null ? g.Node("Reshape", [y, g.ConstantInt64(-1, 2)]) : y];
    }
}
