using System;
using System.Collections.Generic;
using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Models;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Models.Heads;

/// <summary>
/// Points found the way BlazeFace finds its six keypoints: anchors at every cell of the stride-8
/// map (2 a cell) and the stride-16 map (6 a cell), each with a score logit (1x1 conv) and, per
/// point, an offset from its centre in input pixels (1x1 conv). Where BlazeFace keeps the best
/// anchors by non-maximum suppression, this head weighs every anchor by the softmax of the scores
/// and sums, so that it stays differentiable and one face gives one answer. With BlazeFace's
/// backbone and its six keypoints the four convolutions start from BlazeFace's own detector
/// layers (<see cref="LoadBlazeFace"/>): the head starts where BlazeFace is. Same outputs as
/// <see cref="PointHead"/> ([N,2] or [N,K,2] in [lo, hi] over the input). State names:
/// classifier8, regressor8, classifier16, regressor16 (after BlazeFace's, by feature size at 128).
/// </summary>
internal sealed class AnchorPointHead : Head, IStartsFromBlazeFace
{
    /// <summary>BlazeFace's anchor layout: (feature stride, anchors a cell).</summary>
    public static readonly (int Stride, int PerCell)[] Levels = [(8, 2), (16, 6)];

    /// <summary>BlazeFace's score logits are doubled on import: at their own scale the 800-odd
    /// background anchors (logits a few below the face's best, which is 2.6 at the median on our
    /// real crops) took much of the softmax's weight and put the points 5.8 px from the dense
    /// teacher's on the held-out real crops (NME 0.28); doubled, 1.5 px (NME 0.072), about as
    /// close as BlazeFace's own decoding by non-maximum suppression.</summary>
    internal const float ScoreSharpening = 2f;

    /// <summary>Numbers BlazeFace regresses per anchor: box centre x, y, width, height, then six (x, y).</summary>
    private const int BlazeValues = 16;

#pragma warning disable IDE1006 // TorchSharp names parameters after these fields.
    private readonly Conv2d classifier8, regressor8, classifier16, regressor16;
#pragma warning restore IDE1006
    private readonly string[]? _keypointNames;
    private readonly float _lo, _hi, _scale;
    private readonly int[] _level;
    private readonly int _anchors;
    private readonly float[] _centres;
    private readonly bool _blazeFace;

    /// <param name="keypointNames">Null for a single point; otherwise one name per keypoint.</param>
    public AnchorPointHead(string name, Backbone backbone, IReadOnlyList<string>? keypointNames = null, float lo = -1f, float hi = 1f)
        : base(nameof(AnchorPointHead))
    {
        if (!(hi > lo))
        {
            throw new ArgumentOutOfRangeException(nameof(hi), $"y_range [{lo}, {hi}] is empty");
        }

        IReadOnlyList<FeatureInfo> f = backbone.Features;
        int size = backbone.Preprocessing.Width;
        if (backbone.Preprocessing.Height != size)
        {
            throw new ArgumentException($"anchor head '{name}': needs a square input, got {size}x{backbone.Preprocessing.Height}");
        }

        _level = LevelsOf(backbone, $"anchor head '{name}'");
        var centres = new List<float>();
        for (int l = 0; l < Levels.Length; l++)
        {
            (int stride, int perCell) = Levels[l];
            // Anchor centres in output units, cell-major then anchor, as the flattened convolutions.
            int cells = size / stride;
            for (int y = 0; y < cells; y++)
            {
                for (int x = 0; x < cells; x++)
                {
                    for (int a = 0; a < perCell; a++)
                    {
                        centres.Add(lo + ((hi - lo) * (x + 0.5f) / cells));
                        centres.Add(lo + ((hi - lo) * (y + 0.5f) / cells));
                    }
                }
            }
        }

        OutputName = name;
        _keypointNames = keypointNames?.ToArray();
        _lo = lo;
        _hi = hi;
        _scale = (hi - lo) / size; // offsets are in input pixels, as BlazeFace's
        _anchors = centres.Count / 2;
        _centres = [.. Enumerable.Range(0, _anchors).SelectMany(a => Enumerable.Range(0, Points).SelectMany(_ => new[] { centres[a * 2], centres[(a * 2) + 1] }))];
        _blazeFace = backbone is BlazeFaceBackbone && size == 128 && _keypointNames != null && _keypointNames.SequenceEqual(Conventions.KeypointNames);
        classifier8 = Conv2d(f[_level[0]].Channels, Levels[0].PerCell, 1);
        regressor8 = Conv2d(f[_level[0]].Channels, Levels[0].PerCell * 2 * Points, 1);
        classifier16 = Conv2d(f[_level[1]].Channels, Levels[1].PerCell, 1);
        regressor16 = Conv2d(f[_level[1]].Channels, Levels[1].PerCell * 2 * Points, 1);
        RegisterComponents();
    }

    public override string OutputName { get; }

    /// <summary>BlazeFace's six keypoints on BlazeFace's backbone at 128x128: the layers can start
    /// from BlazeFace's (<see cref="LoadBlazeFace"/>), so they learn and freeze with the backbone.</summary>
    public override bool PartOfBody => _blazeFace;

    /// <summary>How many points it predicts.</summary>
    public int Points => _keypointNames?.Length ?? 1;

    public override Tensor forward(Tensor[] features)
    {
        using var scope = NewDisposeScope();
        Tensor fine = features[_level[0]], coarse = features[_level[1]];
        Tensor logits = cat([Cells(classifier8.forward(fine), 1), Cells(classifier16.forward(coarse), 1)], 1);
        Tensor offsets = cat([Cells(regressor8.forward(fine), 2 * Points), Cells(regressor16.forward(coarse), 2 * Points)], 1);
        Tensor points = (offsets * _scale) + tensor(_centres, [_anchors, 2 * Points]).to(fine.device);
        Tensor y = logits.softmax(1).transpose(1, 2).matmul(points); // [N, 1, 2P]
        return y.reshape(_keypointNames == null ? [-1, 2] : [-1, Points, 2]).MoveToOuterDisposeScope();
    }

    public override ManifestOutput Describe() => PointHead.Manifest(OutputName, _keypointNames, _lo, _hi);

    public override string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string fine = inputs[_level[0]], coarse = inputs[_level[1]];
        string Cells(Conv2d conv, string name, string feature, long width) => BlazeFaceNet.EmitAnchors(g, conv, name, feature, width);
        string logits = g.Node("Concat", [Cells(classifier8, nameof(classifier8), fine, 1), Cells(classifier16, nameof(classifier16), coarse, 1)], OnnxGraphBuilder.Attr("axis", 1L));
        string offsets = g.Node("Concat", [Cells(regressor8, nameof(regressor8), fine, 2 * Points), Cells(regressor16, nameof(regressor16), coarse, 2 * Points)], OnnxGraphBuilder.Attr("axis", 1L));
        string points = g.Node("Add", [g.Node("Mul", [offsets, g.ConstantFloat([], _scale)]), g.ConstantFloat([_anchors, 2 * Points], _centres)]);
        string weights = g.Node("Transpose", [g.Node("Softmax", [logits], OnnxGraphBuilder.Attr("axis", 1L))], OnnxGraphBuilder.Ints("perm", 0L, 2L, 1L));
        string y = g.Node("MatMul", [weights, points]);
        return [g.Node("Reshape", [y, _keypointNames == null ? g.ConstantInt64(-1, 2) : g.ConstantInt64(-1, Points, 2)])];
    }

    /// <summary>
    /// Starts the four convolutions from BlazeFace's detector layers (its score logits times
    /// <see cref="ScoreSharpening"/>; of its 16 numbers an anchor, the six keypoints'), when this
    /// head predicts BlazeFace's six keypoints on BlazeFace's backbone at 128x128 and the file has
    /// those layers. Returns what it did, for the log.
    /// </summary>
    public string LoadBlazeFace(IReadOnlyDictionary<string, OnnxTensor> file, IReadOnlyDictionary<string, string> names)
    {
        if (!_blazeFace)
        {
            return $"{OutputName}: not BlazeFace's six keypoints at 128x128, started at random";
        }

        if (!HasLayers(file, names, "classifier8", "regressor8", "classifier16", "regressor16"))
        {
            return $"{OutputName}: the weights file lacks BlazeFace's detector layers, started at random";
        }

        foreach ((Conv2d conv, string key, bool scores) in new[] { (classifier8, "classifier8", true), (regressor8, "regressor8", false), (classifier16, "classifier16", true), (regressor16, "regressor16", false) })
        {
            // Our row r: anchor r / 12, value r % 12 (a keypoint's x or y) = BlazeFace's row anchor * 16 + 4 + value.
            CopyRows(conv, file[names[$"{key}.weight"]], file[names[$"{key}.bias"]], scores ? r => r : r => ((r / (2 * Points)) * BlazeValues) + 4 + (r % (2 * Points)), scores ? ScoreSharpening : 1f);
        }

        return $"{OutputName}: BlazeFace's detector layers (its six keypoints' regressors and anchor scores)";
    }

    /// <summary>The index in the backbone's feature maps of each of <see cref="Levels"/> (the last map
    /// at its stride); <paramref name="what"/> names the head in the message when one is missing.</summary>
    internal static int[] LevelsOf(Backbone backbone, string what)
    {
        IReadOnlyList<FeatureInfo> f = backbone.Features;
        int[] level = [.. Levels.Select(l => f.Select((x, i) => (x, i)).Where(p => p.x.Stride == l.Stride).Select(p => p.i).DefaultIfEmpty(-1).Last())];
        if (level.Any(i => i < 0))
        {
            throw new ArgumentException($"{what}: needs feature maps at strides {string.Join(" and ", Levels.Select(x => x.Stride))}; the backbone's are {string.Join(", ", f.Select(x => x.Stride))}");
        }

        return level;
    }

    /// <summary>Whether <paramref name="file"/> has every one of BlazeFace's <paramref name="layers"/> (weight and bias).</summary>
    internal static bool HasLayers(IReadOnlyDictionary<string, OnnxTensor> file, IReadOnlyDictionary<string, string> names, params string[] layers) =>
        layers.All(l => names.TryGetValue($"{l}.weight", out string? w) && file.ContainsKey(w) && names.TryGetValue($"{l}.bias", out string? b) && file.ContainsKey(b));

    /// <summary>Sets a 1x1 convolution's row r (weights and bias) to <paramref name="gain"/> times
    /// row <paramref name="source"/>(r) of a BlazeFace detector layer.</summary>
    internal static void CopyRows(Conv2d conv, OnnxTensor w, OnnxTensor b, Func<int, int> source, float gain)
    {
        long inputs = w.Dims[1];
        int rows = (int)conv.weight!.shape[0];
        var weight = new float[rows * inputs];
        var bias = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            int from = source(r);
            for (long c = 0; c < inputs; c++)
            {
                weight[(r * inputs) + c] = gain * w.Data[(from * inputs) + c];
            }

            bias[r] = gain * b.Data[from];
        }

        using (no_grad())
        {
            conv.weight.copy_(tensor(weight, conv.weight.shape));
            conv.bias!.copy_(tensor(bias, [rows]));
        }
    }

    private static Tensor Cells(Tensor nchw, long width) => BlazeFaceNet.Anchors(nchw, width);
}

/// <summary>A head whose layers can start from BlazeFace's detector layers (<see cref="PretrainedBackbone"/>).</summary>
internal interface IStartsFromBlazeFace
{
    string OutputName { get; }

    /// <summary>Loads what it can from BlazeFace's weights; returns what it did, for the log.</summary>
    string LoadBlazeFace(IReadOnlyDictionary<string, OnnxTensor> file, IReadOnlyDictionary<string, string> names);
}
