using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using HeadTracking.Trainer.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Models.Backbones;

/// <summary>torchvision's InvertedResidual: optional 1x1 expansion, 3x3 depthwise, 1x1 linear
/// projection, each conv followed by BatchNorm (ReLU6 after the first two); the input is added
/// back when shape allows. Parameter names follow torchvision (conv.0.0, conv.0.1, ...).</summary>
internal sealed class InvertedResidual : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Sequential conv;
    private readonly bool _residual;

    public InvertedResidual(long inChannels, long outChannels, long stride, long expand)
        : base(nameof(InvertedResidual))
    {
        long hidden = inChannels * expand;
        _residual = stride == 1 && inChannels == outChannels;
        conv = Sequential();
        int i = 0;
        if (expand != 1)
        {
            conv.append(Name(i++), MobileNetV2.ConvBnRelu6(inChannels, hidden, 1, 1, 1));
        }

        conv.append(Name(i++), MobileNetV2.ConvBnRelu6(hidden, hidden, 3, stride, hidden));
        conv.append(Name(i++), Conv2d(hidden, outChannels, 1, bias: false));
        conv.append(Name(i), BatchNorm2d(outChannels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor h = conv.forward(x);
        return (_residual ? x + h : h).MoveToOuterDisposeScope();
    }

    public string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string h = g.Emit(conv, inputs[0], nameof(conv));
        return [_residual ? g.Node("Add", [inputs[0], h]) : h];
    }

    private static string Name(int i) => i.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// MobileNetV2 (width 1.0) as torchvision builds it, with its parameter names (features.0 ..
/// features.18). No classifier. Features at strides 2 (16), 4 (24), 8 (32), 16 (96), 32 (1280).
/// </summary>
internal sealed class MobileNetV2 : Backbone
{
    /// <summary>(expand t, channels c, repeats n, first stride s), as in the paper.</summary>
    private static readonly (long T, long C, int N, long S)[] s_settings =
        [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)];

    /// <summary>Indices in features after which a map is returned.</summary>
    private static readonly int[] s_taps = [1, 3, 6, 13, 18];

    private readonly Sequential features;
    private readonly int _size;

    public MobileNetV2(int inputSize = 224)
        : base(nameof(MobileNetV2))
    {
        if (inputSize % 32 != 0)
        {
            throw new System.ArgumentOutOfRangeException(nameof(inputSize), $"MobileNetV2 input size must be a multiple of 32; got {inputSize}");
        }

        _size = inputSize;
        features = Sequential();
        features.append("0", ConvBnRelu6(3, 32, 3, 2, 1));
        long channels = 32;
        int index = 1;
        foreach ((long t, long c, int n, long s) in s_settings)
        {
            for (int i = 0; i < n; i++)
            {
                features.append(index++.ToString(CultureInfo.InvariantCulture), new InvertedResidual(channels, c, i == 0 ? s : 1, t));
                channels = c;
            }
        }

        features.append(index.ToString(CultureInfo.InvariantCulture), ConvBnRelu6(channels, 1280, 1, 1, 1));
        RegisterComponents();
    }

    public override string ArchitectureName => "mobilenetv2";

    public override Preprocessing Preprocessing => Preprocessing.ImageNet(_size);

    public override IReadOnlyList<FeatureInfo> Features => [new(16, 2), new(24, 4), new(32, 8), new(96, 16), new(1280, 32)];

    public override IReadOnlyList<Module> LayerGroups => features.children().ToList();

    public override Tensor[] forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var outputs = new List<Tensor>();
        Tensor h = x;
        int i = 0;
        foreach (Module child in features.children())
        {
            h = ((Module<Tensor, Tensor>)child).forward(h);
            if (s_taps.Contains(i++))
            {
                outputs.Add(h);
            }
        }

        foreach (Tensor o in outputs)
        {
            o.MoveToOuterDisposeScope();
        }

        return [.. outputs];
    }

    public override string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        var outputs = new List<string>();
        string h = inputs[0];
        int i = 0;
        foreach ((string name, Module child) in features.named_children())
        {
            h = g.Emit(child, h, $"{nameof(features)}.{name}");
            if (s_taps.Contains(i++))
            {
                outputs.Add(h);
            }
        }

        return [.. outputs];
    }

    /// <summary>torchvision's Conv2dNormActivation with ReLU6: Sequential(conv, bn, relu6).</summary>
    internal static Sequential ConvBnRelu6(long inChannels, long outChannels, long kernel, long stride, long groups) =>
        Sequential(
            ("0", Conv2d(inChannels, outChannels, kernel, stride: stride, padding: (kernel - 1) / 2, groups: groups, bias: false)),
            ("1", BatchNorm2d(outChannels)),
            ("2", ReLU6()));
}
