using System;
using System.Collections.Generic;
using System.Globalization;
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
/// A U-Net decoder on the backbone's feature maps: from the deepest, upsample x2 (nearest),
/// concatenate the next finer map, conv 3x3 + BatchNorm + ReLU, down to the finest map or to a
/// chosen stride. At the backbone's finest map, nearest x2 upsamples reach the input resolution
/// and a 1x1 conv gives mask logits [N,1,H,W] (apply a sigmoid), or [N,C,H,W] for C segmentation
/// classes (apply a softmax over C); stopped at a coarser stride, the
/// 1x1 conv runs there and its logits are upsampled bilinearly, far cheaper. A segmentation head
/// decoded to the finest map also looks at the input itself, like fastai's U-Net (its last
/// cross-connection): at full resolution, the input image is concatenated to the upsampled
/// features and a conv 3x3 + BatchNorm + ReLU refines them, so class boundaries follow the
/// picture's edges instead of the finest feature map's 2x2 blocks.
/// </summary>
internal sealed class MaskHead : Head
{
    private readonly ModuleList<Sequential> blocks;
    private readonly Upsample up;
    private readonly Upsample? logitsUp;
    private readonly Conv2d output;
    private readonly Sequential? cross;
    private readonly string _name;
    private readonly int _height, _width;

    private readonly string[]? _codes;

    /// <param name="stride">The finest feature stride to decode to; null: the backbone's finest.</param>
    /// <param name="codes">Segmentation classes, one channel each (softmax); null: one channel
    /// of head-or-not logits (sigmoid).</param>
    /// <param name="maps">Without codes: how many maps (a density per value, <see cref="ValueHead"/>).</param>
    public MaskHead(string name, Backbone backbone, int width = 32, int? stride = null, IReadOnlyList<string>? codes = null, int maps = 1)
        : base(nameof(MaskHead))
    {
        _name = name;
        _codes = codes is { Count: > 1 } ? [.. codes] : null;
        Channels = _codes?.Length ?? maps;
        _height = backbone.Preprocessing.Height;
        _width = backbone.Preprocessing.Width;
        IReadOnlyList<FeatureInfo> f = backbone.Features;
        int finest = 0;
        if (stride is { } wanted)
        {
            finest = -1;
            for (int i = 0; i < f.Count; i++)
            {
                finest = f[i].Stride == wanted ? i : finest;
            }

            if (finest < 0 || finest == f.Count - 1)
            {
                throw new ArgumentException($"mask stride {wanted} (--mask-stride): the backbone's feature strides are {string.Join(", ", f.Select(x => x.Stride))}, and the mask needs one finer than the deepest");
            }
        }

        var list = new List<Sequential>();
        long channels = f[^1].Channels;
        for (int level = f.Count - 2; level >= finest; level--)
        {
            list.Add(Sequential(
                ("0", Conv2d(channels + f[level].Channels, width, 3, padding: 1, bias: false)),
                ("1", BatchNorm2d(width)),
                ("2", ReLU())));
            channels = width;
        }

        blocks = new ModuleList<Sequential>([.. list]);
        up = Upsample(scale_factor: [2.0, 2.0], mode: UpsampleMode.Nearest);
        output = Conv2d(width, Channels, 1);
        FinestStride = f[finest].Stride;
        Bilinear = finest > 0;
        if (Bilinear)
        {
            logitsUp = Upsample(scale_factor: [FinestStride, FinestStride], mode: UpsampleMode.Bilinear, align_corners: false);
        }
        else if (_codes != null)
        {
            cross = Sequential(
                ("0", Conv2d(width + backbone.Preprocessing.Mean.Length, width, 3, padding: 1, bias: false)),
                ("1", BatchNorm2d(width)),
                ("2", ReLU()));
        }

        RegisterComponents();
    }

    /// <summary>Output channels: 1 (head or not), one per segmentation class, or as asked.</summary>
    public int Channels { get; }

    /// <summary>Sets every output logit's bias (a density head starts near the targets' mean).</summary>
    public void InitOutputBias(float value)
    {
        using var noGrad = no_grad();
        output.bias!.fill_(value);
    }

    /// <summary>Stride of the finest feature map decoded; the last upsampling covers it.</summary>
    public int FinestStride { get; }

    /// <summary>Whether the logits are computed at <see cref="FinestStride"/> and upsampled bilinearly.</summary>
    public bool Bilinear { get; }

    public override string OutputName => _name;

    /// <summary>A segmentation head at full resolution reads the input (see the class).</summary>
    public override bool TakesInput => cross != null;

    public override Tensor forward(Tensor[] features)
    {
        using var scope = NewDisposeScope();
        Tensor x = features[^1];
        for (int i = 0; i < blocks.Count; i++)
        {
            Tensor skip = features[features.Length - 2 - i];
            x = blocks[i].forward(cat([up.forward(x), skip], 1));
        }

        if (logitsUp != null)
        {
            return logitsUp.forward(output.forward(x)).MoveToOuterDisposeScope();
        }

        for (int s = FinestStride; s > 1; s /= 2)
        {
            x = up.forward(x);
        }

        if (cross != null)
        {
            x = cross.forward(cat([x, features[0]], 1));
        }

        return output.forward(x).MoveToOuterDisposeScope();
    }

    public override ManifestOutput Describe() => new()
    {
        Name = _name,
        Kind = OutputKinds.Mask,
        Shape = [-1, Channels, _height, _width],
        Coordinates = _codes == null ? "one logit per model-input pixel (after letterboxing)" : "one logit per class and model-input pixel (after letterboxing); the class is the channel of the largest",
        Activation = _codes == null ? "sigmoid" : "softmax",
        ClassNames = _codes,
    };

    public override string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string x = inputs[^1];
        for (int i = 0; i < blocks.Count; i++)
        {
            string skip = inputs[inputs.Length - 2 - i];
            string cat = g.Node("Concat", [g.Emit(up, x, nameof(up)), skip], OnnxGraphBuilder.Attr("axis", 1L));
            x = g.Emit(blocks[i], cat, $"{nameof(blocks)}.{i.ToString(CultureInfo.InvariantCulture)}");
        }

        if (logitsUp != null)
        {
            return [g.Emit(logitsUp, g.Emit(output, x, nameof(output)), nameof(logitsUp))];
        }

        for (int s = FinestStride; s > 1; s /= 2)
        {
            x = g.Emit(up, x, nameof(up));
        }

        if (cross != null)
        {
            x = g.Emit(cross, g.Node("Concat", [x, inputs[0]], OnnxGraphBuilder.Attr("axis", 1L)), nameof(cross));
        }

        return [g.Emit(output, x, nameof(output))];
    }
}
