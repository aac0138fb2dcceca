using System.Collections.Generic;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Onnx;
using TorchSharp.Modules;
using static HeadTracking.Trainer.Onnx.OnnxGraphBuilder;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Models;

/// <summary>
/// MediaPipe's BlazeFace front detector rebuilt in TorchSharp: the backbone plus its score and
/// regressor convolutions at 16x16 (2 anchors a cell) and 8x8 (6 anchors a cell). Outputs, like the
/// original: scores [N,512,1], [N,384,1]; regressors [N,512,16], [N,384,16].
/// </summary>
internal sealed class BlazeFaceNet : Module<Tensor, Tensor[]>, IOnnxExportable
{
    private readonly BlazeFaceBackbone backbone;
    private readonly Conv2d classifier8, regressor8, classifier16, regressor16;

    public BlazeFaceNet()
        : base(nameof(BlazeFaceNet))
    {
        backbone = new BlazeFaceBackbone();
        classifier8 = Conv2d(88, 2, 1);
        regressor8 = Conv2d(88, 32, 1);
        classifier16 = Conv2d(96, 6, 1);
        regressor16 = Conv2d(96, 96, 1);
        RegisterComponents();
    }

    public BlazeFaceBackbone Backbone => backbone;

    public override Tensor[] forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor[] f = backbone.forward(x);
        Tensor[] outputs =
        [
            Anchors(classifier8.forward(f[2]), 1), Anchors(classifier16.forward(f[3]), 1),
            Anchors(regressor8.forward(f[2]), 16), Anchors(regressor16.forward(f[3]), 16),
        ];
        foreach (Tensor o in outputs)
        {
            o.MoveToOuterDisposeScope();
        }

        return outputs;
    }

    public string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string[] f = g.Emit(backbone, inputs, nameof(backbone));
        return
        [
            EmitAnchors(g, classifier8, nameof(classifier8), f[2], 1), EmitAnchors(g, classifier16, nameof(classifier16), f[3], 1),
            EmitAnchors(g, regressor8, nameof(regressor8), f[2], 16), EmitAnchors(g, regressor16, nameof(regressor16), f[3], 16),
        ];
    }

    /// <summary>NCHW per-cell predictions to one row per anchor, cells in row-major order.</summary>
    internal static Tensor Anchors(Tensor nchw, long width) => nchw.permute(0, 2, 3, 1).reshape(nchw.shape[0], -1, width);

    /// <summary>Emits a 1x1 detector convolution and <see cref="Anchors"/> of its output; returns its value name.</summary>
    internal static string EmitAnchors(OnnxGraphBuilder g, Conv2d conv, string name, string feature, long width) =>
        g.Node("Reshape", [g.Node("Transpose", [g.Emit(conv, feature, name)], Ints("perm", 0L, 2L, 3L, 1L)), g.ConstantInt64(0, -1, width)]);
}

/// <summary>The names under which MediaPipe's BlazeFace ONNX (converted by tf2onnx) stores the
/// weights of each layer of <see cref="BlazeFaceNet"/>.</summary>
internal static class BlazeFaceWeights
{
    private const string Prefix = "StatefulPartitionedCall/functional_1/";

    /// <summary>state_dict name of a <see cref="BlazeFaceNet"/> (or, with <paramref name="prefix"/>
    /// "", of a bare <see cref="BlazeFaceBackbone"/>) → initializer name in the MediaPipe file.</summary>
    public static Dictionary<string, string> NameMap(string prefix = "backbone.", bool heads = true)
    {
        var map = new Dictionary<string, string>
        {
            [$"{prefix}stem.weight"] = Weight("conv2d"),
            [$"{prefix}stem.bias"] = Bias("conv2d"),
        };
        for (int i = 0; i < BlazeFaceBackbone.Blocks.Length; i++)
        {
            string dw = i == 0 ? "depthwise_conv2d" : $"depthwise_conv2d_{i}";
            map[$"{prefix}blocks.{i}.depthwise.weight"] = $"{Prefix}{dw}/depthwise/ReadVariableOp:0";
            map[$"{prefix}blocks.{i}.pointwise.weight"] = Weight($"conv2d_{i + 1}");
            map[$"{prefix}blocks.{i}.pointwise.bias"] = Bias($"conv2d_{i + 1}");
        }

        if (heads)
        {
            foreach ((string module, string layer) in new[] { ("classifier8", "conv2d_17"), ("classifier16", "conv2d_18"), ("regressor8", "conv2d_19"), ("regressor16", "conv2d_20") })
            {
                map[$"{module}.weight"] = Weight(layer);
                map[$"{module}.bias"] = Bias(layer);
            }
        }

        return map;
    }

    private static string Weight(string layer) => $"{Prefix}{layer}/Conv2D/ReadVariableOp:0";

    private static string Bias(string layer) => $"{Prefix}{layer}/BiasAdd/ReadVariableOp:0";
}
