using System;
using System.Collections.Generic;
using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Models;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Onnx;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Models.Heads;

/// <summary>
/// Regresses points in a fixed range, as in the Biwi head-centre experiment: a sigmoid squashes
/// each coordinate into [lo, hi] (default [-1, 1]). One point ("center", output [N,2]) or K named
/// points ("keypoints", output [N,K,2]).
/// </summary>
internal sealed class PointHead : TrunkHead
{
    private readonly string[]? _keypointNames;
    private readonly float _lo, _hi;

    /// <param name="keypointNames">Null for a single point; otherwise one name per keypoint.</param>
    public PointHead(string name, Backbone backbone, IReadOnlyList<string>? keypointNames = null, float lo = -1f, float hi = 1f, TrunkSize? size = null)
        : base(nameof(PointHead), name, backbone, 2 * (keypointNames?.Count ?? 1), size)
    {
        if (!(hi > lo))
        {
            throw new ArgumentOutOfRangeException(nameof(hi), $"y_range [{lo}, {hi}] is empty");
        }

        _keypointNames = keypointNames?.ToArray();
        _lo = lo;
        _hi = hi;
    }

    /// <summary>How many points it predicts.</summary>
    public int Points => _keypointNames?.Length ?? 1;

    public float Low => _lo;

    public float High => _hi;

    public override Tensor forward(Tensor[] features)
    {
        using var scope = NewDisposeScope();
        Tensor y = (Raw(features).sigmoid() * (_hi - _lo)) + _lo;
        return (_keypointNames == null ? y : y.reshape(-1, Points, 2)).MoveToOuterDisposeScope();
    }

    public override ManifestOutput Describe() => Manifest(OutputName, _keypointNames, _lo, _hi);

    /// <summary>The manifest entry of a point output: one point [N,2] or named keypoints [N,K,2] in [lo, hi].</summary>
    internal static ManifestOutput Manifest(string name, string[]? keypointNames, float lo, float hi) => new()
    {
        Name = name,
        Kind = keypointNames == null ? OutputKinds.Point : OutputKinds.Keypoints,
        Shape = keypointNames == null ? [-1, 2] : [-1, keypointNames.Length, 2],
        Coordinates = Coordinates.Normalized(lo, hi),
        Range = [lo, hi],
        Activation = "none",
        KeypointNames = keypointNames,
    };

    public override string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string y = g.Node("Sigmoid", [EmitRaw(g, inputs)]);
        y = g.Node("Add", [g.Node("Mul", [y, g.ConstantFloat([], _hi - _lo)]), g.ConstantFloat([], _lo)]);
        return [_keypointNames == null ? y : g.Node("Reshape", [y, g.ConstantInt64(-1, Points, 2)])];
    }
}
