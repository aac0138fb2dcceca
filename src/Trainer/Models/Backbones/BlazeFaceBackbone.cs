using System;
using System.Collections.Generic;
using System.Linq;
using HeadTracking.Trainer.Onnx;
using HeadTracking.Trainer.Onnx.Emitters;
using TorchSharp.Modules;
using static HeadTracking.Trainer.Onnx.OnnxGraphBuilder;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Models.Backbones;

/// <summary>
/// BlazeFace's residual block (MediaPipe front model): depthwise 3x3 (stride 2 pads only bottom and
/// right, as TensorFlow's "same") then pointwise 1x1; the skip path is max-pooled when strided and
/// zero-padded in channels when the block widens; ReLU after the sum.
/// </summary>
internal sealed class BlazeBlock : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Conv2d depthwise;
    private readonly Conv2d pointwise;
    private readonly int _stride;
    private readonly long _channelPad;

    public BlazeBlock(long inChannels, long outChannels, int stride)
        : base(nameof(BlazeBlock))
    {
        if (stride is not (1 or 2))
        {
            throw new ArgumentOutOfRangeException(nameof(stride), "BlazeBlock stride must be 1 or 2");
        }

        _stride = stride;
        _channelPad = outChannels - inChannels;
        depthwise = Conv2d(inChannels, inChannels, 3, stride: stride, padding: stride == 1 ? 1 : 0, groups: inChannels, bias: false);
        pointwise = Conv2d(inChannels, outChannels, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor h = _stride == 2 ? functional.pad(x, [0, 1, 0, 1]) : x;
        h = pointwise.forward(depthwise.forward(h));
        Tensor skip = _stride == 2 ? functional.max_pool2d(x, 2, 2) : x;
        if (_channelPad > 0)
        {
            skip = functional.pad(skip, [0, 0, 0, 0, 0, _channelPad]);
        }

        return functional.relu(h + skip).MoveToOuterDisposeScope();
    }

    public string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string x = inputs[0];
        string h;
        using (g.Scope(nameof(depthwise)))
        {
            h = Conv2dEmitter.EmitConv(g, depthwise, x, null, null, _stride == 2 ? [0, 0, 1, 1] : null);
        }

        h = g.Emit(pointwise, h, nameof(pointwise));
        string skip = _stride == 2
            ? g.Node("MaxPool", [x], Ints("kernel_shape", 2L, 2L), Ints("strides", 2L, 2L))
            : x;
        if (_channelPad > 0)
        {
            skip = g.Node("Pad", [skip, g.ConstantInt64(0, 0, 0, 0, 0, _channelPad, 0, 0)], Attr("mode", "constant"));
        }

        return [g.Node("Relu", [g.Node("Add", [h, skip])])];
    }
}

/// <summary>
/// The BlazeFace front-camera backbone (about 100k parameters): a 5x5 stride-2 stem and 16
/// BlazeBlocks, 24 to 96 channels. Same shape as MediaPipe's model, so its weights load by
/// <see cref="BlazeFaceWeights"/>. Input 128x128 RGB in [-1, 1]. Features at strides 2, 4, 8, 16.
/// </summary>
internal sealed class BlazeFaceBackbone : Backbone
{
    /// <summary>(in, out, stride) of each block, as in the MediaPipe graph.</summary>
    public static readonly (int In, int Out, int Stride)[] Blocks =
    [
        (24, 24, 1), (24, 28, 1), (28, 32, 2), (32, 36, 1), (36, 42, 1), (42, 48, 2), (48, 56, 1), (56, 64, 1),
        (64, 72, 1), (72, 80, 1), (80, 88, 1), (88, 96, 2), (96, 96, 1), (96, 96, 1), (96, 96, 1), (96, 96, 1),
    ];

    /// <summary>Blocks after which a feature map is returned (strides 2, 4, 8, 16).</summary>
    internal static readonly int[] Taps = [1, 4, 10, 15];

    private readonly Conv2d stem;
    private readonly ModuleList<BlazeBlock> blocks;
    private readonly int _size;

    public BlazeFaceBackbone(int inputSize = 128)
        : base(nameof(BlazeFaceBackbone))
    {
        if (inputSize % 16 != 0 || inputSize < 32)
        {
            throw new ArgumentOutOfRangeException(nameof(inputSize), $"BlazeFace input size must be a multiple of 16, at least 32; got {inputSize}");
        }

        _size = inputSize;
        stem = Conv2d(3, 24, 5, stride: 2);
        blocks = new ModuleList<BlazeBlock>(Blocks.Select(b => new BlazeBlock(b.In, b.Out, b.Stride)).ToArray());
        RegisterComponents();
    }

    public override string ArchitectureName => "blazeface";

    public override Preprocessing Preprocessing => Preprocessing.MinusOneToOne(_size);

    public override IReadOnlyList<FeatureInfo> Features => [new(28, 2), new(42, 4), new(88, 8), new(96, 16)];

    public override IReadOnlyList<Module> LayerGroups =>
        [stem, .. blocks.Take(5), .. blocks.Skip(5).Take(6), .. blocks.Skip(11)];

    /// <summary>The stem conv (weights importable from MediaPipe's "conv2d").</summary>
    internal Conv2d Stem => stem;

    internal ModuleList<BlazeBlock> BlockList => blocks;

    public override Tensor[] forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // TensorFlow "same" for a 5x5 stride-2 conv on an even size: 1 before, 2 after.
        Tensor h = functional.relu(stem.forward(functional.pad(x, [1, 2, 1, 2])));
        var features = new List<Tensor>(Taps.Length);
        for (int i = 0; i < blocks.Count; i++)
        {
            h = blocks[i].forward(h);
            if (Taps.Contains(i))
            {
                features.Add(h);
            }
        }

        foreach (Tensor f in features)
        {
            f.MoveToOuterDisposeScope();
        }

        return [.. features];
    }

    public override string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string h;
        using (g.Scope(nameof(stem)))
        {
            h = Conv2dEmitter.EmitConv(g, stem, inputs[0], null, null, [1, 1, 2, 2]);
        }

        h = g.Node("Relu", [h]);
        var features = new List<string>();
        for (int i = 0; i < blocks.Count; i++)
        {
            h = g.Emit(blocks[i], h, $"{nameof(blocks)}.{i}");
            if (Taps.Contains(i))
            {
                features.Add(h);
            }
        }

        return [.. features];
    }
}
