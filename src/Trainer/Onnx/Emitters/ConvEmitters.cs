using System;
using TorchSharp;
using TorchSharp.Modules;
using static HeadTracking.Trainer.Onnx.OnnxGraphBuilder;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Onnx.Emitters;

/// <summary>Conv2d → Conv (zero padding only).</summary>
internal sealed class Conv2dEmitter : ModuleEmitter<Conv2d>
{
    protected override string Emit(OnnxGraphBuilder g, Conv2d conv, string input) => EmitConv(g, conv, input, null, null);

    /// <summary>Emits <paramref name="conv"/>, folding <paramref name="bn"/> (its state_dict name
    /// <paramref name="bnName"/>, a sibling of the conv) into it when given. Extra asymmetric
    /// padding (top, left, bottom, right) may be added on top of the conv's own.</summary>
    public static string EmitConv(OnnxGraphBuilder g, Conv2d conv, string input, BatchNorm2d? bn, string? bnName, long[]? extraPads = null)
    {
        if (conv.padding_mode != PaddingModes.Zeros)
        {
            throw new NotSupportedException($"cannot export layer '{g.Path}': padding mode {conv.padding_mode} (only zeros)");
        }

        if (conv.padding_type is Padding.Same)
        {
            throw new NotSupportedException($"cannot export layer '{g.Path}': padding 'same' (give explicit padding)");
        }

        long[] p = conv.padding_type is Padding.Valid || conv.padding is null ? [0, 0] : conv.padding;
        long[] pads = [p[0], p[1], p[0], p[1]];
        if (extraPads != null)
        {
            for (int i = 0; i < 4; i++)
            {
                pads[i] += extraPads[i];
            }
        }

        string weight, bias;
        if (bn == null)
        {
            weight = g.Parameter(conv.weight!, "weight");
            bias = conv.bias is null ? "" : g.Parameter(conv.bias, "bias");
        }
        else
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            Tensor gamma = bn.weight is null ? ones(bn.num_features) : bn.weight;
            Tensor beta = bn.bias is null ? zeros(bn.num_features) : bn.bias;
            Tensor scale = gamma / (bn.running_var! + bn.eps).sqrt();
            Tensor w = conv.weight! * scale.reshape(-1, 1, 1, 1);
            Tensor b0 = conv.bias is null ? zeros(conv.out_channels) : (Tensor)conv.bias;
            Tensor b = ((b0 - bn.running_mean!) * scale) + beta;
            // Named after the conv; the BN's own tensors do not appear in a folded export.
            weight = g.Derived(w, "weight");
            bias = g.Derived(b, "bias");
            _ = bnName;
        }

        string[] inputs = bias.Length == 0 ? [input, weight] : [input, weight, bias];
        return g.Node("Conv", inputs,
            Ints("kernel_shape", conv.kernel_size),
            Ints("strides", conv.stride),
            Ints("pads", pads),
            Ints("dilations", conv.dilation),
            Attr("group", conv.groups));
    }
}

/// <summary>BatchNorm2d (eval mode: running statistics) → BatchNormalization.</summary>
internal sealed class BatchNorm2dEmitter : ModuleEmitter<BatchNorm2d>
{
    protected override string Emit(OnnxGraphBuilder g, BatchNorm2d bn, string input)
    {
        string scale = bn.weight is null ? g.ConstantFloat([bn.num_features], Ones(bn.num_features)) : g.Parameter(bn.weight, "weight");
        string bias = bn.bias is null ? g.ConstantFloat([bn.num_features], new float[bn.num_features]) : g.Parameter(bn.bias, "bias");
        return g.Node("BatchNormalization",
            [input, scale, bias, g.Parameter(bn.running_mean!, "running_mean"), g.Parameter(bn.running_var!, "running_var")],
            Attr("epsilon", (float)bn.eps));
    }

    private static float[] Ones(long n)
    {
        var a = new float[n];
        Array.Fill(a, 1f);
        return a;
    }
}

/// <summary>Linear → Gemm with the weight transposed as stored.</summary>
internal sealed class LinearEmitter : ModuleEmitter<Linear>
{
    protected override string Emit(OnnxGraphBuilder g, Linear linear, string input)
    {
        string w = g.Parameter(linear.weight!, "weight");
        string[] inputs = linear.bias is null ? [input, w] : [input, w, g.Parameter(linear.bias, "bias")];
        return g.Node("Gemm", inputs, Attr("transB", 1L));
    }
}
