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
/// Head orientation read where the head is, the way BlazeFace reads its keypoints: every anchor
/// (2 a cell on the stride-8 map, 6 on the stride-16 map) regresses a rotation in the 6D
/// representation from its own cell's features (a 1x1 convolution, ReLU, a 1x1 convolution: the
/// same weights at every cell), and the anchors are weighed by the softmax of their score logits
/// and summed before Gram-Schmidt (<see cref="PoseHead.SixDToMatrix"/>). Unlike
/// <see cref="PoseHead"/>, whose fully connected layer has separate weights for every cell of the
/// deepest map, what it learns from a head in one place holds in every other, which suits the ray
/// frame (the rotation relative to the ray through the head centre: what the head looks like
/// wherever it is). On BlazeFace's backbone at 128x128 the score layers start from BlazeFace's
/// (times <see cref="AnchorPointHead.ScoreSharpening"/>), so it starts by looking at faces; they
/// learn with the rest of the head. With <c>blocks</c> &gt; 0 (<c>--pose-blocks</c>), each map first
/// passes through that many residual blocks of its own width (<see cref="ScaledBlock"/>: BlazeBlock's
/// shape, the branch scaled by a learnt factor that starts at 0) that belong to the head: they learn
/// at the heads' rate while the backbone's blocks learn <c>--lr-mult</c> times slower; where the maps
/// are ReLU outputs (BlazeFace's), which the blocks' ReLU leaves as they are, the head starts as the
/// head without them.
/// Output as <see cref="PoseHead"/>: [N,3,3]. State names: classifier8, hidden8, regressor8,
/// classifier16, hidden16, regressor16, and blocks8.K / blocks16.K.
/// </summary>
internal sealed class AnchorPoseHead : Head, IStartsFromBlazeFace
{
    /// <summary>Channels between an anchor's features and its rotations.</summary>
    public const int HiddenWidth = 64;

#pragma warning disable IDE1006 // TorchSharp names parameters after these fields.
    private readonly Conv2d classifier8, hidden8, regressor8, classifier16, hidden16, regressor16;
    private readonly Sequential blocks8, blocks16;
#pragma warning restore IDE1006
    private readonly int[] _level;
    private readonly bool _blazeFace;

    /// <summary>The most residual blocks a pose head may put on each map (<c>--pose-blocks</c>).</summary>
    public const int MaxBlocks = 4;

    public AnchorPoseHead(string name, Backbone backbone, string frame = "ray", int blocks = 0)
        : base(nameof(AnchorPoseHead))
    {
        if (blocks is < 0 or > MaxBlocks)
        {
            throw new ArgumentOutOfRangeException(nameof(blocks), blocks, $"anchor pose head '{name}': blocks must be 0 to {MaxBlocks}");
        }

        IReadOnlyList<FeatureInfo> f = backbone.Features;
        _level = AnchorPointHead.LevelsOf(backbone, $"anchor pose head '{name}'");

        OutputName = name;
        Frame = frame;
        int fine = f[_level[0]].Channels, coarse = f[_level[1]].Channels;
        int perFine = AnchorPointHead.Levels[0].PerCell, perCoarse = AnchorPointHead.Levels[1].PerCell;
        _blazeFace = backbone is BlazeFaceBackbone && backbone.Preprocessing.Width == 128 && backbone.Preprocessing.Height == 128;
        classifier8 = Conv2d(fine, perFine, 1);
        hidden8 = Conv2d(fine, HiddenWidth, 1);
        regressor8 = Conv2d(HiddenWidth, perFine * 6, 1);
        classifier16 = Conv2d(coarse, perCoarse, 1);
        hidden16 = Conv2d(coarse, HiddenWidth, 1);
        regressor16 = Conv2d(HiddenWidth, perCoarse * 6, 1);
        Blocks = blocks;
        blocks8 = IdentityBlocks(fine, blocks);
        blocks16 = IdentityBlocks(coarse, blocks);
        RegisterComponents();
    }

    /// <summary>Residual blocks on each map before the rotation layers (0: none).</summary>
    public int Blocks { get; }

    public override string OutputName { get; }

    /// <summary>"ray" or "camera": see <see cref="HeadConfig.Frame"/>.</summary>
    public string Frame { get; }

    public override Tensor forward(Tensor[] features)
    {
        using var scope = NewDisposeScope();
        Tensor fine = features[_level[0]], coarse = features[_level[1]];
        Tensor logits = cat([Cells(classifier8.forward(fine), 1), Cells(classifier16.forward(coarse), 1)], 1);
        Tensor fineBlocks = Blocks > 0 ? blocks8.forward(fine) : fine, coarseBlocks = Blocks > 0 ? blocks16.forward(coarse) : coarse;
        Tensor sixD = cat([
            Cells(regressor8.forward(functional.relu(hidden8.forward(fineBlocks))), 6),
            Cells(regressor16.forward(functional.relu(hidden16.forward(coarseBlocks))), 6)], 1);
        Tensor weighted = logits.softmax(1).transpose(1, 2).matmul(sixD); // [N, 1, 6]
        return PoseHead.SixDToMatrix(weighted.reshape(-1, 6)).MoveToOuterDisposeScope();
    }

    public override ManifestOutput Describe() => PoseHead.Manifest(OutputName, Frame);

    public override string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string fine = inputs[_level[0]], coarse = inputs[_level[1]];
        string Scores(Conv2d conv, string name, string feature) => BlazeFaceNet.EmitAnchors(g, conv, name, feature, 1);
        string Rotations(Conv2d hidden, string hiddenName, Conv2d regressor, string regressorName, string feature) =>
            BlazeFaceNet.EmitAnchors(g, regressor, regressorName, g.Node("Relu", [g.Emit(hidden, feature, hiddenName)]), 6);
        string logits = g.Node("Concat", [Scores(classifier8, nameof(classifier8), fine), Scores(classifier16, nameof(classifier16), coarse)], OnnxGraphBuilder.Attr("axis", 1L));
        string fineBlocks = Blocks > 0 ? g.Emit(blocks8, fine, nameof(blocks8)) : fine;
        string coarseBlocks = Blocks > 0 ? g.Emit(blocks16, coarse, nameof(blocks16)) : coarse;
        string sixD = g.Node("Concat", [
            Rotations(hidden8, nameof(hidden8), regressor8, nameof(regressor8), fineBlocks),
            Rotations(hidden16, nameof(hidden16), regressor16, nameof(regressor16), coarseBlocks)], OnnxGraphBuilder.Attr("axis", 1L));
        string weights = g.Node("Transpose", [g.Node("Softmax", [logits], OnnxGraphBuilder.Attr("axis", 1L))], OnnxGraphBuilder.Ints("perm", 0L, 2L, 1L));
        string weighted = g.Node("Reshape", [g.Node("MatMul", [weights, sixD]), g.ConstantInt64(-1, 6)]);
        return [PoseHead.EmitSixDToMatrix(g, weighted)];
    }

    /// <summary>Starts the two score layers from BlazeFace's (sharpened as the anchor point head's),
    /// on BlazeFace's backbone at 128x128 when the file has them; the rotation layers start at random.</summary>
    public string LoadBlazeFace(IReadOnlyDictionary<string, OnnxTensor> file, IReadOnlyDictionary<string, string> names)
    {
        if (!_blazeFace)
        {
            return $"{OutputName}: not on BlazeFace's backbone at 128x128, started at random";
        }

        if (!AnchorPointHead.HasLayers(file, names, "classifier8", "classifier16"))
        {
            return $"{OutputName}: the weights file lacks BlazeFace's score layers, started at random";
        }

        AnchorPointHead.CopyRows(classifier8, file[names["classifier8.weight"]], file[names["classifier8.bias"]], r => r, AnchorPointHead.ScoreSharpening);
        AnchorPointHead.CopyRows(classifier16, file[names["classifier16.weight"]], file[names["classifier16.bias"]], r => r, AnchorPointHead.ScoreSharpening);
        return $"{OutputName}: BlazeFace's anchor scores (its rotation layers start at random)";
    }

    private static Tensor Cells(Tensor nchw, long width) => BlazeFaceNet.Anchors(nchw, width);

    /// <summary><paramref name="count"/> <see cref="ScaledBlock"/>s of <paramref name="channels"/>.</summary>
    private static Sequential IdentityBlocks(long channels, int count)
    {
        var seq = Sequential();
        for (int i = 0; i < count; i++)
        {
            seq.append(i.ToString(System.Globalization.CultureInfo.InvariantCulture), new ScaledBlock(channels));
        }

        return seq;
    }
}

/// <summary>
/// A BlazeBlock-shaped residual block (depthwise 3x3, pointwise 1x1, ReLU after the sum) whose
/// branch is multiplied by a learnt scale that starts at 0 (ReZero): on a ReLU output it starts as
/// no change, and the branch grows only as fast as the one scale learns. (A zero-started pointwise
/// layer instead let Adam move all of its weights at once at the heads' rate, and a pose head with
/// two such blocks fitted 320 training renders to 29 degrees of yaw where the head without them
/// reached 1.8.) State: depthwise, pointwise, scale.
/// </summary>
internal sealed class ScaledBlock : Module<Tensor, Tensor>, IOnnxExportable
{
#pragma warning disable IDE1006 // TorchSharp names parameters after these fields.
    private readonly Conv2d depthwise;
    private readonly Conv2d pointwise;
    private readonly TorchSharp.Modules.Parameter scale;
#pragma warning restore IDE1006

    public ScaledBlock(long channels)
        : base(nameof(ScaledBlock))
    {
        depthwise = Conv2d(channels, channels, 3, padding: 1, groups: channels, bias: false);
        pointwise = Conv2d(channels, channels, 1);
        scale = Parameter(zeros(1));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return functional.relu(x + (scale * pointwise.forward(depthwise.forward(x)))).MoveToOuterDisposeScope();
    }

    public string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string branch = g.Emit(pointwise, g.Emit(depthwise, inputs[0], nameof(depthwise)), nameof(pointwise));
        string scaled = g.Node("Mul", [branch, g.Parameter(scale, nameof(scale))]);
        return [g.Node("Relu", [g.Node("Add", [inputs[0], scaled])])];
    }
}
