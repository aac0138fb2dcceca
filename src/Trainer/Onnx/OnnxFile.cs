using System;
using System.IO;
using Google.Protobuf;
using HeadTracking.Trainer.Onnx.Proto;

namespace HeadTracking.Trainer.Onnx;

/// <summary>Reads and writes ONNX model files, with errors that name the file.</summary>
internal static class OnnxFile
{
    /// <summary>Parses an ONNX model.</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">Truncated, not protobuf, or not an ONNX model.</exception>
    public static ModelProto Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"ONNX file not found: {path}", path);
        }

        byte[] bytes = File.ReadAllBytes(path);
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{path}: not a readable ONNX file (truncated or not protobuf): {e.Message}", e);
        }

        if (model.IrVersion <= 0 || model.Graph == null || model.Graph.Output.Count == 0 || model.OpsetImport.Count == 0)
        {
            throw new InvalidDataException($"{path}: not an ONNX model (ir_version {model.IrVersion}, " +
                $"{(model.Graph == null ? "no graph" : $"{model.Graph.Node.Count} nodes, {model.Graph.Output.Count} outputs")}, {model.OpsetImport.Count} opset imports)");
        }

        return model;
    }

    /// <summary>Writes <paramref name="model"/> to a temporary file beside <paramref name="path"/>
    /// and renames it into place, so a crash never leaves half a file under the final name.</summary>
    public static void Save(ModelProto model, string path)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = $"{full}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                model.WriteTo(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
