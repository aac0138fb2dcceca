using System;
using System.Collections.Generic;
using System.Linq;
using HeadTracking.Runtime.Models;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Onnx.Proto;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Onnx;

/// <summary>
/// Writes TorchSharp models as ONNX (IR 8, opset 17) with every weight as an initializer, a
/// dynamic batch dimension, and the model's manifest in metadata_props.
/// </summary>
internal static class OnnxExporter
{
    public const int IrVersion = 8;

    /// <summary>A multi-head model with its manifest (plus training recipe and metrics when given).</summary>
    public static ModelProto Build(MultiHeadNet net, OnnxExportOptions options,
        Dictionary<string, string>? training = null, Dictionary<string, double>? metrics = null)
    {
        ModelManifest manifest = net.Manifest();
        manifest.Training = training;
        manifest.Metrics = metrics;
        return Build(net, manifest.Input.Shape, [.. manifest.Outputs.Select(o => o.Name)], options, manifest,
            [.. manifest.Outputs.Select(o => o.Shape)]);
    }

    /// <summary>Any exportable module with one NCHW float input named "input".</summary>
    /// <param name="inputShape">Input shape; -1 marks the dynamic batch dimension.</param>
    /// <param name="outputShapes">Output shapes when known (-1 for batch), else null.</param>
    /// <exception cref="NotSupportedException">A layer has no emitter; the message names it.</exception>
    public static ModelProto Build(Module root, long[] inputShape, string[] outputNames, OnnxExportOptions options,
        ModelManifest? manifest = null, long[][]? outputShapes = null)
    {
        var g = new OnnxGraphBuilder(options);
        const string input = "input";
        g.Graph.Input.Add(ValueInfo(input, inputShape));
        string[] outputs = g.Emit(root, [input], "");
        if (outputs.Length != outputNames.Length)
        {
            throw new ArgumentException($"the model has {outputs.Length} outputs but {outputNames.Length} names were given");
        }

        for (int i = 0; i < outputs.Length; i++)
        {
            g.Graph.Node.Add(new NodeProto { OpType = "Identity", Name = $"output_{outputNames[i]}", Input = { outputs[i] }, Output = { outputNames[i] } });
            g.Graph.Output.Add(ValueInfo(outputNames[i], outputShapes?[i]));
        }

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "headtracker-train",
            ProducerVersion = System.Reflection.CustomAttributeExtensions.GetCustomAttribute<System.Reflection.AssemblyInformationalVersionAttribute>(typeof(OnnxExporter).Assembly)?.InformationalVersion ?? "",
            Graph = g.Graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxGraphBuilder.Opset });
        if (manifest != null)
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = ModelManifest.MetadataKey, Value = manifest.ToJson() });
        }

        return model;
    }

    /// <summary>A float tensor value; -1 dims become the symbolic "batch", a null shape is left out.</summary>
    private static ValueInfoProto ValueInfo(string name, long[]? shape)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float };
        if (shape != null)
        {
            tensor.Shape = new TensorShapeProto();
            foreach (long d in shape)
            {
                tensor.Shape.Dim.Add(d < 0 ? new TensorShapeProto.Types.Dimension { DimParam = "batch" } : new TensorShapeProto.Types.Dimension { DimValue = d });
            }
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }
}
