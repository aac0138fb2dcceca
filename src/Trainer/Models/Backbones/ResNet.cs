using System;
using System.Collections.Generic;
using HeadTracking.Trainer.Onnx;
using HeadTracking.Trainer.Onnx.Emitters;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Models.Backbones;

/// <summary>torchvision's BasicBlock, with its parameter names (conv1, bn1, conv2, bn2, downsample.0/1).</summary>
internal sealed class BasicBlock : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Conv2d conv1, conv2;
    private readonly BatchNorm2d bn1, bn2;
    private readonly Sequential? downsample;

    public BasicBlock(long inChannels, long outChannels, long stride)
        : base(nameof(BasicBlock))
    {
        conv1 = Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false);
        bn1 = BatchNorm2d(outChannels);
        conv2 = Conv2d(outChannels, outChannels, 3, padding: 1, bias: false);
        bn2 = BatchNorm2d(outChannels);
        if (stride != 1 || inChannels != outChannels)
        {
            downsample = Sequential(Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), BatchNorm2d(outChannels));
        }

        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor h = functional.relu(bn1.forward(conv1.forward(x)));
        h = bn2.forward(conv2.forward(h));
        Tensor skip = downsample is null ? x : downsample.forward(x);
        return functional.relu(h + skip).MoveToOuterDisposeScope();
    }

    public string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string x = inputs[0];
        string h = g.Node("Relu", [ConvBn.Emit(g, conv1, nameof(conv1), bn1, nameof(bn1), x)]);
        h = ConvBn.Emit(g, conv2, nameof(conv2), bn2, nameof(bn2), h);
        string skip = downsample is null ? x : g.Emit(downsample, x, nameof(downsample));
        return [g.Node("Relu", [g.Node("Add", [h, skip])])];
    }
}

/// <summary>A conv and the BatchNorm after it, folded into one Conv when the export asks.</summary>
internal static class ConvBn
{
    public static string Emit(OnnxGraphBuilder g, Conv2d conv, string convName, BatchNorm2d bn, string bnName, string input)
    {
        if (g.Options.FoldBatchNorm)
        {
            using (g.Scope(convName))
            {
                return Conv2dEmitter.EmitConv(g, conv, input, bn, bnName);
            }
        }

        return g.Emit(bn, g.Emit(conv, input, convName), bnName);
    }
}

/// <summary>
/// ResNet18/34 as torchvision builds them, with torchvision's parameter names (conv1, bn1,
/// layer1..layer4), so torchvision weights converted to a name→tensor file load directly.
/// No classifier: features at strides 2 (64), 4 (64), 8 (128), 16 (256), 32 (512).
/// </summary>
internal sealed class ResNet : Backbone
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly MaxPool2d maxpool;
    private readonly Sequential layer1, layer2, layer3, layer4;
    private readonly string _name;
    private readonly int _size;

    public ResNet(int depth, int inputSize = 224)
        : base($"resnet{depth}")
    {
        int[] blocks = depth switch
        {
            18 => [2, 2, 2, 2],
            34 => [3, 4, 6, 3],
            _ => throw new ArgumentOutOfRangeException(nameof(depth), $"ResNet depth {depth} is not supported (18 or 34)"),
        };
        if (inputSize % 32 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(inputSize), $"ResNet input size must be a multiple of 32; got {inputSize}");
        }

        _name = $"resnet{depth}";
        _size = inputSize;
        conv1 = Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false);
        bn1 = BatchNorm2d(64);
        maxpool = MaxPool2d(3, stride: 2, padding: 1);
        layer1 = Layer(64, 64, blocks[0], 1);
        layer2 = Layer(64, 128, blocks[1], 2);
        layer3 = Layer(128, 256, blocks[2], 2);
        layer4 = Layer(256, 512, blocks[3], 2);
        RegisterComponents();
    }

    public override string ArchitectureName => _name;

    public override Preprocessing Preprocessing => Preprocessing.ImageNet(_size);

    public override IReadOnlyList<FeatureInfo> Features => [new(64, 2), new(64, 4), new(128, 8), new(256, 16), new(512, 32)];

    public override IReadOnlyList<Module> LayerGroups => [conv1, bn1, layer1, layer2, layer3, layer4];

    public override Tensor[] forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor s2 = functional.relu(bn1.forward(conv1.forward(x)));
        Tensor s4 = layer1.forward(maxpool.forward(s2));
        Tensor s8 = layer2.forward(s4);
        Tensor s16 = layer3.forward(s8);
        Tensor s32 = layer4.forward(s16);
        Tensor[] features = [s2, s4, s8, s16, s32];
        foreach (Tensor f in features)
        {
            f.MoveToOuterDisposeScope();
        }

        return features;
    }

    public override string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string s2 = g.Node("Relu", [ConvBn.Emit(g, conv1, nameof(conv1), bn1, nameof(bn1), inputs[0])]);
        string s4 = g.Emit(layer1, g.Emit(maxpool, s2, nameof(maxpool)), nameof(layer1));
        string s8 = g.Emit(layer2, s4, nameof(layer2));
        string s16 = g.Emit(layer3, s8, nameof(layer3));
        return [s2, s4, s8, s16, g.Emit(layer4, s16, nameof(layer4))];
    }

    private static Sequential Layer(long inChannels, long outChannels, int count, long stride)
    {
        var layer = Sequential();
        for (int i = 0; i < count; i++)
        {
            layer.append(i.ToString(System.Globalization.CultureInfo.InvariantCulture), new BasicBlock(i == 0 ? inChannels : outChannels, outChannels, i == 0 ? stride : 1));
        }

        return layer;
    }
}
