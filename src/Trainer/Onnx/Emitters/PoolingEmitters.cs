using System;
using System.Linq;
using TorchSharp.Modules;
using static HeadTracking.Trainer.Onnx.OnnxGraphBuilder;

namespace HeadTracking.Trainer.Onnx.Emitters;

internal sealed class MaxPool2dEmitter : ModuleEmitter<MaxPool2d>
{
    protected override string Emit(OnnxGraphBuilder g, MaxPool2d pool, string input)
    {
        long[] p = pool.padding ?? [0, 0];
        long[] stride = pool.stride ?? pool.kernel_size;
        long[] dilation = pool.dilation ?? [1, 1];
        if (pool.ceil_mode || dilation.Any(d => d != 1))
        {
            // Both are valid ONNX, but OpenCV's dnn importer rejects the attributes; none of our
            // backbones needs them.
            throw new NotSupportedException($"cannot export layer '{g.Path}': MaxPool2d with ceil_mode or dilation");
        }

        return g.Node("MaxPool", [input],
            Ints("kernel_shape", pool.kernel_size),
            Ints("strides", stride),
            Ints("pads", p[0], p[1], p[0], p[1]));
    }
}

internal sealed class AdaptiveAvgPool2dEmitter : ModuleEmitter<AdaptiveAvgPool2d>
{
    protected override string Emit(OnnxGraphBuilder g, AdaptiveAvgPool2d pool, string input)
    {
        if (!pool.output_size.All(s => s == 1))
        {
            throw new NotSupportedException($"cannot export layer '{g.Path}': AdaptiveAvgPool2d to [{string.Join(",", pool.output_size)}] (only to 1x1)");
        }

        return g.Node("GlobalAveragePool", [input]);
    }
}

/// <summary>Upsampling by an integer factor → Resize: nearest with the coordinate convention that
/// matches torch's 'nearest' (asymmetric, floor), or bilinear without corner alignment
/// (half_pixel, as torch's align_corners=false).</summary>
internal sealed class UpsampleEmitter : ModuleEmitter<Upsample>
{
    protected override string Emit(OnnxGraphBuilder g, Upsample up, string input)
    {
        double[] factors = up.scale_factor.ToArray();
        bool bilinear = up.mode == TorchSharp.torch.UpsampleMode.Bilinear && up.align_corners != true;
        if ((up.mode != TorchSharp.torch.UpsampleMode.Nearest && !bilinear) || factors.Length == 0 || factors.Any(f => f != Math.Floor(f)))
        {
            throw new NotSupportedException($"cannot export layer '{g.Path}': Upsample {up.mode} x[{string.Join(",", factors)}] (only nearest, or bilinear without align_corners, by whole factors)");
        }

        float fy = (float)factors[0], fx = (float)factors[^1];
        if (bilinear)
        {
            return g.Node("Resize", [input, "", g.ConstantFloat([4], 1f, 1f, fy, fx)],
                Attr("mode", "linear"),
                Attr("coordinate_transformation_mode", "half_pixel"));
        }

        return g.Node("Resize", [input, "", g.ConstantFloat([4], 1f, 1f, fy, fx)],
            Attr("mode", "nearest"),
            Attr("coordinate_transformation_mode", "asymmetric"),
            Attr("nearest_mode", "floor"));
    }
}
